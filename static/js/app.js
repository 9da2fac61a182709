// Tiny progressive enhancements; every page works without JavaScript.
// "Add another" on inline formsets: clone the <template class="formset-empty"> row, replacing __prefix__.
document.addEventListener("click", function (event) {
  var button = event.target.closest(".formset-add");
  if (!button) return;
  var fieldset = button.closest("[data-formset]");
  var prefix = fieldset.getAttribute("data-formset");
  var total = fieldset.querySelector('input[name="' + prefix + '-TOTAL_FORMS"]');
  var template = fieldset.querySelector("template.formset-empty");
  var index = parseInt(total.value, 10);
  var html = template.innerHTML.replace(/__prefix__/g, String(index));
  fieldset.querySelector(".formset-rows").insertAdjacentHTML("beforeend", html);
  total.value = String(index + 1);
});

// Suggestions for an input with data-options-url (e.g. the partner list's "Assigned to"): fetched once, when the
// field is first focused, into its <datalist>. Without JavaScript the field still takes a typed username or name.
document.addEventListener("focusin", function (event) {
  var input = event.target;
  if (!input.matches || !input.matches("input[data-options-url]") || input.dataset.optionsLoaded) return;
  input.dataset.optionsLoaded = "1";
  var list = document.getElementById(input.getAttribute("list"));
  fetch(input.dataset.optionsUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
    .then(function (response) { return response.ok ? response.json() : {options: []}; })
    .then(function (data) {
      data.options.forEach(function (option) {
        var element = document.createElement("option");
        element.value = option.value;
        element.textContent = option.label;
        list.appendChild(element);
      });
    })
    .catch(function () { delete input.dataset.optionsLoaded; });
});

// A double tap on a form's button sends it once: a POST form that is being sent ignores further submits until the
// page is shown again (the Back button's cached page included). The server stays the judge (converting twice, a
// closed lead, a stale form are refused there); this only spares people the second "Partner added" of a double tap.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if ((form.method || "").toLowerCase() !== "post" || form.hasAttribute("data-allow-resubmit")) return;
  if (form.dataset.sending) {
    event.preventDefault();
    return;
  }
  // After every other listener has run: a form that a script sends itself (preventDefault) is not being sent here.
  setTimeout(function () { if (!event.defaultPrevented) form.dataset.sending = "1"; }, 0);
});
window.addEventListener("pageshow", function () {
  document.querySelectorAll("form[data-sending]").forEach(function (form) { delete form.dataset.sending; });
});
