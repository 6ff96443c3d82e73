// Progressive enhancement of the media upload form: drop an image on the box to choose it, see its name
// and a preview. Without this script the plain file input does the same job.
(function () {
  "use strict";
  function ready() {
    var zone = document.getElementById("dropzone");
    var input = document.getElementById("file");
    var status = document.getElementById("drop-status");
    if (!zone || !input || !window.DataTransfer) { return; }
    function show(file) {
      // The sentence comes translated from the page (data-chosen), with {file} and {size} to fill in.
      status.textContent = file ? status.getAttribute("data-chosen").replace("{file}", file.name)
        .replace("{size}", String(Math.round(file.size / 1024))) : "";
      var old = document.getElementById("drop-preview");
      if (old) { old.remove(); }
      if (file && file.type.indexOf("image/") === 0) {
        var img = document.createElement("img");
        img.id = "drop-preview";
        img.alt = "";
        img.style.maxWidth = "12rem";
        img.style.display = "block";
        img.src = URL.createObjectURL(file);
        zone.appendChild(img);
      }
    }
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) {
      e.preventDefault();
      var files = e.dataTransfer && e.dataTransfer.files;
      if (!files || !files.length) { return; }
      var chosen = new DataTransfer();
      chosen.items.add(files[0]);
      input.files = chosen.files;
      show(files[0]);
    });
    input.addEventListener("change", function () { show(input.files[0]); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", ready); } else { ready(); }
}());
