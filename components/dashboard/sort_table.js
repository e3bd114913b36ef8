// The dashboard's one script: sorts a table by the column whose header is clicked (again:
// the other way), and filters the slice table by the text typed. Everything else on the page
// is drawn without script. Cells sort by their data-value (numbers) or text; empty values last.
(function () {
  'use strict';

  function key(row, column, numeric) {
    var cell = row.cells[column];
    var text = cell.hasAttribute('data-value') ? cell.getAttribute('data-value')
                                               : cell.textContent.trim();
    if (text === '') return null;
    return numeric ? Number(text) : text;
  }

  function compare(a, b, numeric) {
    if (numeric) return a < b ? -1 : a > b ? 1 : 0;
    return a.localeCompare(b, undefined, {numeric: true});
  }

  function sortBy(table, header) {
    var column = header.cellIndex;
    var numeric = header.getAttribute('data-type') === 'number';
    var ascending = header.getAttribute('aria-sort') !== 'ascending';
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (x, y) {  // stable: ties keep the page's order
      var a = key(x, column, numeric), b = key(y, column, numeric);
      if (a === null || b === null) return (a === null) - (b === null);
      return ascending ? compare(a, b, numeric) : compare(b, a, numeric);
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(header.parentNode.cells, function (cell) {
      cell.removeAttribute('aria-sort');
    });
    header.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
  }

  document.querySelectorAll('table.sortable').forEach(function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header) {
      header.tabIndex = 0;
      header.title = 'Sort by ' + header.textContent;
      header.addEventListener('click', function () { sortBy(table, header); });
      header.addEventListener('keydown', function (event) {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          sortBy(table, header);
        }
      });
    });
  });

  document.querySelectorAll('input[data-filter]').forEach(function (input) {
    var table = document.getElementById(input.getAttribute('data-filter'));
    input.hidden = false;
    input.addEventListener('input', function () {
      var needle = input.value.trim().toLowerCase();
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        row.hidden = needle !== '' &&
            row.getAttribute('data-slice').toLowerCase().indexOf(needle) < 0;
      });
    });
  });
  document.documentElement.classList.add('scripted');
})();
