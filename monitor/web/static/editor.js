// The profile editor's check as you type: the form's fields go to /api/v1/profiles/validate
// (a read: nothing is saved) a moment after the last keystroke; the answer is shown as text
// (never as markup) under the query, and the file-to-be under "The file as it will be saved".
// Without this script the "Check" button does the same through the server.
(function () {
  "use strict";
  var form = document.querySelector("form.editor");
  if (!form) return;
  var check = document.getElementById("check");
  var yaml = document.getElementById("yaml");
  var timer = null;
  var asked = 0;

  function fields() {
    var data = new FormData(form);
    var tags = String(data.get("tags") || "").split(",").map(function (t) { return t.trim(); })
      .filter(function (t) { return t.length > 0; });
    var score = parseFloat(String(data.get("min_score") || "1"));
    return {
      name: String(data.get("name") || ""),
      fields: {
        description: String(data.get("description") || "").trim(),
        query: String(data.get("query") || "").replace(/\r\n/g, "\n").trim(),
        tags: tags,
        alert: String(data.get("alert") || "instant"),
        digest: String(data.get("digest") || "daily").trim() || "daily",
        min_score: isNaN(score) ? -1 : score,
        enabled: data.get("enabled") === "on"
      }
    };
  }

  var context = document.getElementById("check-context");

  function show(text, good, where) {
    check.textContent = text;
    check.className = "check " + (good ? "ok" : "bad");
    context.textContent = where || "";
    context.hidden = !where;
  }

  function validate() {
    var body = fields();
    if (!body.name) { show("Give the profile a name to check it.", false); return; }
    var mine = ++asked;
    fetch(form.getAttribute("data-validate"), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify(body)
    }).then(function (answer) { return answer.json(); }).then(function (result) {
      if (mine !== asked) return; // a later keystroke asked again
      if (result.valid) {
        var notes = (result.warnings || []).concat((result.lint || []).map(function (w) {
          return "lint[" + w.rule + "]: " + w.message;
        }));
        show(notes.length ? "✓ valid, " + notes.length + " warning(s)" : "✓ valid", true,
          notes.join("\n"));
        if (yaml && typeof result.yaml === "string") yaml.textContent = result.yaml;
      } else if (result.error) {
        var at = result.error.line ? " (line " + result.error.line +
          (result.error.column ? ", column " + result.error.column : "") + ")" : "";
        show("✗ " + result.error.message + at, false, result.error.context);
      } else {
        show("✗ " + ((result.error && result.error.message) || "could not check"), false);
      }
    }).catch(function () { show("The check could not reach the server.", false); });
  }

  if (fields().name) validate(); // the verdict on what the page opened with, too

  form.addEventListener("input", function (event) {
    var name = event.target && event.target.name;
    if (name === "test_text" || name === "test_url" || name === "article" || name === "since" || name === "note") return;
    clearTimeout(timer);
    timer = setTimeout(validate, 350);
  });
})();
