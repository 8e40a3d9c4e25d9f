// Small page behaviours (a file of its own: the Content-Security-Policy allows no inline script).
// - <button data-print> prints the page.
// - <form class="quiz" data-count="#id" data-count-text="… {answered} … {total} …"> keeps the
//   count of questions answered in #id up to date, in the page's language (the template
//   writes the translated text with the two placeholders).
document.addEventListener("click", (event) => {
  if (event.target.closest("button[data-print]")) window.print();
});

function answeredCount(form) {
  let answered = 0;
  for (const fieldset of form.querySelectorAll("fieldset.question")) {
    const inputs = [...fieldset.querySelectorAll("input, select")];
    const checks = inputs.filter((i) => i.type === "radio" || i.type === "checkbox");
    const selects = inputs.filter((i) => i.tagName === "SELECT");
    const done = checks.length
      ? checks.some((i) => i.checked)
      : selects.length > 0 && selects.every((s) => s.value !== "");
    if (done) answered += 1;
  }
  return answered;
}

function updateCount(form) {
  const target = document.querySelector(form.dataset.count);
  if (!target) return;
  const total = form.querySelectorAll("fieldset.question").length;
  const answered = answeredCount(form);
  const pattern = form.dataset.countText || "{answered} / {total}";
  const text = pattern.replace("{answered}", String(answered)).replace("{total}", String(total));
  target.textContent = text;
  target.dataset.answered = String(answered);
  for (const mirror of form.querySelectorAll(`[data-mirror="${form.dataset.count}"]`)) {
    mirror.textContent = text;
  }
}

for (const form of document.querySelectorAll("form.quiz[data-count]")) {
  form.addEventListener("change", () => updateCount(form));
  updateCount(form);
}
