// Copy buttons: <button data-copy="#element-id"> copies that input's or textarea's text.
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
  button.textContent = copied ? button.dataset.done || "已复制" : "请按 Ctrl+C 复制";
  setTimeout(() => { button.textContent = label; }, 2000);
});
