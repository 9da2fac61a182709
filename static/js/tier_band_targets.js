// The new-partner form: picking a tier fills the empty target boxes with that tier's band (low end), from the JSON in
// #tier-band-proposals ({tier id: {input name: value}}, dashboard.forms). A box the user typed into is never touched;
// a box this script filled is replaced (or emptied) when the tier changes. Nothing is saved unless the form is sent.
(function () {
  "use strict";
  var data = document.getElementById("tier-band-proposals");
  var tier = document.getElementById("id_tier");
  if (!data || !tier) { return; }
  var proposals = JSON.parse(data.textContent);
  var names = {};
  Object.keys(proposals).forEach(function (id) {
    Object.keys(proposals[id]).forEach(function (name) { names[name] = true; });
  });
  function apply() {
    var values = proposals[tier.value] || {};
    Object.keys(names).forEach(function (name) {
      var input = document.querySelector('input[name="' + name + '"]');
      if (!input) { return; }
      var filled = input.getAttribute("data-proposed");
      if (input.value !== "" && input.value !== filled) { return; }  // the user's own figure
      if (values[name] !== undefined) {
        input.value = values[name];
        input.setAttribute("data-proposed", values[name]);
      } else {
        input.value = "";
        input.removeAttribute("data-proposed");
      }
    });
  }
  tier.addEventListener("change", apply);
})();
