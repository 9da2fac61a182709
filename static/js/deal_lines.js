// The deal form's product lines (jinja2/portal/deals/form.html): ask the partner's price for each line as its SKU or
// quantity changes (/portal/prices/quote/), show the line totals and the total, and add rows. Without this script
// the form still works: the prices are set when the draft is saved.
(function () {
  "use strict";
  var box = document.getElementById("deal-lines");
  if (!box) return;
  var url = box.getAttribute("data-quote-url");
  var rows = document.getElementById("deal-line-rows");
  var totalOut = document.getElementById("lines-total");
  var addButton = document.getElementById("add-line");
  var format = function (value, currency) {
    return Number(value).toLocaleString(undefined, {minimumFractionDigits: 2, maximumFractionDigits: 4}) + " " + currency;
  };

  function updateTotal() {
    var sum = 0, currency = "", mixed = false, any = false;
    rows.querySelectorAll("tr.deal-line").forEach(function (row) {
      if (row.dataset.total === undefined || row.dataset.total === "") return;
      any = true;
      sum += Number(row.dataset.total);
      if (currency && currency !== row.dataset.currency) mixed = true;
      currency = row.dataset.currency;
    });
    totalOut.textContent = !any ? "—" : (mixed ? "(several currencies)" : format(sum, currency));
  }

  function quote(row) {
    var sku = row.querySelector(".line-sku").value.trim();
    var quantity = row.querySelector(".line-quantity").value.trim() || "1";
    var priceCell = row.querySelector(".line-price"), totalCell = row.querySelector(".line-total");
    row.dataset.total = "";
    if (!sku) { priceCell.textContent = ""; totalCell.textContent = ""; updateTotal(); return; }
    var ask = sku + "|" + quantity;
    row.dataset.asking = ask;
    fetch(url + "?sku=" + encodeURIComponent(sku) + "&quantity=" + encodeURIComponent(quantity),
          {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : {found: false}; })
      .then(function (data) {
        if (row.dataset.asking !== ask) return; // a newer question is on its way
        if (!data.found) {
          priceCell.textContent = "no price";
          totalCell.textContent = "";
          row.dataset.total = "";
        } else {
          priceCell.textContent = format(data.unit_price, data.currency);
          totalCell.textContent = format(data.total, data.currency);
          row.dataset.total = data.total;
          row.dataset.currency = data.currency;
        }
        updateTotal();
      })
      .catch(function () { priceCell.textContent = ""; });
  }

  function watch(row) {
    row.querySelectorAll("input").forEach(function (input) {
      input.addEventListener("change", function () { quote(row); });
    });
  }

  rows.querySelectorAll("tr.deal-line").forEach(function (row) {
    watch(row);
    if (row.querySelector(".line-sku").value.trim()) quote(row);
  });
  addButton.hidden = false;
  addButton.addEventListener("click", function () {
    var last = rows.querySelector("tr.deal-line:last-child");
    var row = last.cloneNode(true);
    row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
    row.querySelector(".line-price").textContent = "";
    row.querySelector(".line-total").textContent = "";
    delete row.dataset.total;
    rows.appendChild(row);
    watch(row);
    row.querySelector(".line-sku").focus();
  });
})();
