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
