// Copy buttons: <button data-copy="#element-id" data-done="…" data-failed="…"> copies that
// input's or textarea's text and says so (data-done) or asks for Ctrl+C (data-failed), in the
// page's language as the template wrote them.
// A file of its own because the Content-Security-Policy allows no inline script.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source) return;
  const text = source.value ?? source.textContent;
  let copied = false;
  try {
    await navigator.clipboard.writeText(text);
    copied = true;
  } catch {
    // No clipboard API (plain HTTP on an intranet): select the text and copy it.
    source.focus();
    source.select?.();
    copied = document.execCommand && document.execCommand("copy");
  }
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  button.textContent = copied ? button.dataset.done || "✓" : button.dataset.failed || "Ctrl+C";
  setTimeout(() => { button.textContent = label; }, 2000);
});
