// Partner form: a contact's value input gets the keyboard of its kind (tel for phone/mobile/WhatsApp, email for email)
// as soon as the kind is picked; the server renders the same types (partners.forms.contact_value_attrs) for saved rows.
(function () {
  "use strict";
  var PHONE = ["phone", "mobile", "whatsapp"];

  function apply(select) {
    var row = select.closest(".formset-row");
    var value = row && row.querySelector('input[name$="-value"]');
    if (!value) return;
    var kind = select.value;
    if (PHONE.indexOf(kind) >= 0) {
      value.type = "tel"; value.inputMode = "tel"; value.autocomplete = "tel";
    } else if (kind === "email") {
      value.type = "email"; value.inputMode = "email"; value.autocomplete = "email";
    } else {
      value.type = "text"; value.inputMode = "text"; value.autocomplete = "off";
    }
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[data-contact-kind]")) apply(event.target);
  });
})();
