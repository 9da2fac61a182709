// Settings page: "Copy" puts the calendar link on the clipboard (the field stays selectable without JavaScript).
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy-target]");
  if (!button) return;
  var input = document.getElementById(button.getAttribute("data-copy-target"));
  if (!input) return;
  var done = function () {
    var label = button.textContent;
    button.textContent = button.getAttribute("data-copied-label") || "Copied";
    setTimeout(function () { button.textContent = label; }, 2000);
  };
  input.focus();
  input.select();
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(input.value).then(done, function () {
      if (document.execCommand("copy")) done();
    });
  } else if (document.execCommand("copy")) {
    done();
  }
});
