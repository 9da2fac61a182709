// The account menu is a <details> element: it works without JavaScript. This only closes it on a tap outside it or
// on Escape, as people expect of a menu.
(function () {
  "use strict";
  function closeMenus(except) {
    document.querySelectorAll("details.usermenu[open]").forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  }
  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest ? event.target.closest("details.usermenu") : null);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelector("details.usermenu[open]");
    if (open) {
      open.removeAttribute("open");
      open.querySelector("summary").focus();
    }
  });
})();

// The phone's tab strip scrolls sideways when the tabs do not fit: show the current tab, and drop the right-edge fade
// once the strip is scrolled to its end.
(function () {
  "use strict";
  var nav = document.querySelector(".mainnav");
  if (!nav) return;
  function edge() { nav.classList.toggle("at-end", nav.scrollLeft + nav.clientWidth >= nav.scrollWidth - 2); }
  var current = nav.querySelector('[aria-current="page"]');
  if (current && nav.scrollWidth > nav.clientWidth) {
    var left = current.getBoundingClientRect().left - nav.getBoundingClientRect().left + nav.scrollLeft;
    nav.scrollLeft = Math.max(0, left - (nav.clientWidth - current.offsetWidth) / 2);
  }
  edge();
  nav.addEventListener("scroll", edge, {passive: true});
  window.addEventListener("resize", edge);
})();
