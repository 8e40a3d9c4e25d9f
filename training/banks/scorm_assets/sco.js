/* One lesson as a SCORM 1.2 SCO: find the LMS's API, draw the quiz, grade it, report it.
   Written for the training product's SCORM export; no external scripts, no network. */
(function () {
  "use strict";

  function findAPI(win) {
    for (var tries = 0; win && tries < 10; tries++) {
      if (win.API) { return win.API; }
      if (win.parent === win) { break; }
      win = win.parent;
    }
    return null;
  }
  var api = findAPI(window) || (window.opener ? findAPI(window.opener) : null);
  var started = false;

  function call(name, a, b) {
    if (!api) { return ""; }
    try { return b === undefined ? api[name](a) : api[name](a, b); } catch (e) { return ""; }
  }
  function set(element, value) { return call("LMSSetValue", element, String(value)); }

  function start() {
    if (!api || started) { return; }
    call("LMSInitialize", "");
    started = true;
    var status = call("LMSGetValue", "cmi.core.lesson_status");
    if (!status || status === "not attempted") { set("cmi.core.lesson_status", "incomplete"); }
    call("LMSCommit", "");
  }
  function finish() {
    if (api && started) { call("LMSCommit", ""); call("LMSFinish", ""); started = false; }
  }

  var quiz = JSON.parse(document.getElementById("quiz-data").textContent);
  var form = document.getElementById("quiz-form");
  var result = document.getElementById("quiz-result");
  var drawn = [];

  function shuffle(list) {
    var copy = list.slice();
    for (var i = copy.length - 1; i > 0; i--) {
      var j = Math.floor(Math.random() * (i + 1));
      var t = copy[i]; copy[i] = copy[j]; copy[j] = t;
    }
    return copy;
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function render() {
    form.textContent = "";
    result.textContent = "";
    drawn = shuffle(quiz.questions).slice(0, quiz.size);
    drawn.forEach(function (q, index) {
      var box = el("fieldset", { "class": "question", "data-qid": q.id });
      box.appendChild(el("legend", {}, (index + 1) + ". " + (q.kind === "multiple" ? "(多选)" : "")));
      if (q.scenario) { box.appendChild(el("p", { "class": "scenario" }, q.scenario)); }
      box.appendChild(el("p", { "class": "prompt" }, q.prompt));
      var options = q.kind === "order" ? shuffle(q.options) : (q.kind === "truefalse" ? q.options : shuffle(q.options));
      options.forEach(function (o) {
        var label = el("label", { "class": "option" });
        var input;
        if (q.kind === "order") {
          input = el("select", { name: "q" + index + "-" + o.key, "data-key": o.key });
          input.appendChild(el("option", { value: "" }, "第几步"));
          for (var n = 1; n <= q.options.length; n++) { input.appendChild(el("option", { value: String(n) }, String(n))); }
        } else {
          input = el("input", { type: q.kind === "multiple" ? "checkbox" : "radio", name: "q" + index, value: o.key });
        }
        label.appendChild(input);
        label.appendChild(el("span", {}, " " + o.text));
        label.appendChild(el("span", { "class": "feedback", hidden: "hidden" }, o.feedback || ""));
        box.appendChild(label);
      });
      box.appendChild(el("p", { "class": "item-feedback", hidden: "hidden" }, q.feedback || ""));
      form.appendChild(box);
    });
    var submit = el("button", { type: "submit", "class": "button" }, "提交答案");
    form.appendChild(submit);
  }

  function answerOf(q, index) {
    if (q.kind === "order") {
      var ranks = {};
      q.options.forEach(function (o) {
        var select = form.querySelector("select[name='q" + index + "-" + o.key + "']");
        ranks[o.key] = select ? select.value : "";
      });
      var keys = Object.keys(ranks).sort(function (a, b) { return Number(ranks[a]) - Number(ranks[b]); });
      return { keys: keys, complete: keys.every(function (k) { return ranks[k]; }) };
    }
    var chosen = Array.prototype.map.call(
      form.querySelectorAll("input[name='q" + index + "']:checked"), function (i) { return i.value; });
    return { keys: chosen.sort(), complete: chosen.length > 0 };
  }

  function grade(event) {
    event.preventDefault();
    var answers = drawn.map(answerOf);
    if (!answers.every(function (a) { return a.complete; })) {
      result.textContent = "还有题目没有作答。";
      return;
    }
    var right = 0;
    drawn.forEach(function (q, index) {
      var answer = answers[index];
      var expected = q.kind === "order"
        ? q.options.map(function (o) { return o.key; })
        : q.options.filter(function (o) { return o.correct; }).map(function (o) { return o.key; }).sort();
      var ok = answer.keys.join(",") === expected.join(",");
      if (ok) { right++; }
      var box = form.querySelectorAll("fieldset.question")[index];
      box.classList.add(ok ? "right" : "wrong");
      Array.prototype.forEach.call(box.querySelectorAll(".feedback, .item-feedback"), function (f) {
        if (f.textContent) { f.hidden = false; }
      });
      var n = "cmi.interactions." + index + ".";
      set(n + "id", q.id);
      set(n + "type", q.kind === "order" ? "sequencing" : (q.kind === "truefalse" ? "true-false" : "choice"));
      set(n + "student_response", q.kind === "truefalse" ? (answer.keys[0] === "true" ? "t" : "f") : answer.keys.join(","));
      set(n + "result", ok ? "correct" : "wrong");
      set(n + "weighting", "1");
    });
    var passed = right >= quiz.needed;
    set("cmi.core.score.min", "0");
    set("cmi.core.score.max", "100");
    set("cmi.core.score.raw", String(Math.round(100 * right / drawn.length)));
    set("cmi.core.lesson_status", passed ? "passed" : "failed");
    call("LMSCommit", "");
    result.textContent = "答对 " + right + " / " + drawn.length + " 题," + (passed ? "通过。" : "未通过,可以重新测验。");
    form.querySelector("button[type=submit]").remove();
    var again = el("button", { type: "button", "class": "button" }, "重新测验");
    again.addEventListener("click", render);
    form.appendChild(again);
  }

  form.addEventListener("submit", grade);
  window.addEventListener("load", start);
  window.addEventListener("beforeunload", finish);
  window.addEventListener("pagehide", finish);
  start();
  render();
})();
