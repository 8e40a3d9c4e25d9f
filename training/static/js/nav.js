// The header's menus are <details>: they open and close without this file. It adds what
// people expect of a menu: one open at a time, Escape closes it (focus back on its button),
// and a click or focus elsewhere closes it. A file of its own: the CSP allows no inline script.
const menus = () => document.querySelectorAll("details.nav-menu");

function closeAll(except) {
  for (const menu of menus()) {
    if (menu !== except) menu.open = false;
  }
}

for (const menu of menus()) {
  menu.addEventListener("toggle", () => {
    if (menu.open) closeAll(menu);
  });
  menu.addEventListener("focusout", (event) => {
    if (menu.open && event.relatedTarget && !menu.contains(event.relatedTarget)) menu.open = false;
  });
}

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const menu = document.activeElement?.closest("details.nav-menu[open]")
    || document.querySelector("details.nav-menu[open]");
  if (!menu) return;
  menu.open = false;
  menu.querySelector("summary")?.focus();
});

document.addEventListener("click", (event) => {
  if (!event.target.closest("details.nav-menu")) closeAll(null);
});
