// Calls /api/ (nginx → app-server → database) and shows the answer and how far the request got.
// Plain JavaScript from our own origin: no build step, no framework, no CDN.
"use strict";

const $ = (id) => document.getElementById(id);
const HOPS = ["hop-browser", "hop-web", "hop-app", "hop-db"];

// "Connected to PostgreSQL!" → "PostgreSQL" (the app's message names the engine).
function engineOf(message) {
  const match = /^Connected to (.+)!$/.exec(message || "");
  return match ? match[1] : "?";
}

// What each box says beside its colour, so the path reads without colours too.
const HOP_STATE = {
  ok: "✓ 응답 / answered",
  fail: "✗ 여기서 멈춤 / stopped here",
  idle: "도달 못함 / not reached",
};

function setHop(id, state, text) {
  $(id).className = "hop " + state;
  $(id).querySelector(".state").textContent = text;
}

// Every hop before `failedAt` answered; `failedAt` did not (null: all answered). The error box names it.
function markPath(failedAt) {
  const stop = failedAt === null ? HOPS.length : HOPS.indexOf(failedAt);
  HOPS.forEach((id, i) => {
    const state = i < stop ? "ok" : i === stop ? "fail" : "idle";
    setHop(id, state, HOP_STATE[state]);
  });
  $("failed-hop").textContent = failedAt === null ? "—" : $(failedAt).querySelector("b").textContent;
}

// Where it broke: nginx's own JSON error ({"error", "status"}) means app-server did not answer;
// the app's 500 ({"error"}) means the database did not; anything else stopped at nginx.
function failedHop(status, body) {
  if (status === 0) return "hop-web";
  if (body && [502, 503, 504].includes(status) && "status" in body) return "hop-app";
  if (body && status === 500) return "hop-db";
  return "hop-web";
}

function showHeaders(response) {
  $("served-by").textContent = (response && response.headers.get("X-Served-By-Web")) || "—";
  $("upstream-addr").textContent = (response && response.headers.get("X-Upstream-Addr")) || "—";
  // The app names its own container (its replica, in Swarm) on every response.
  $("app-served-by").textContent = (response && response.headers.get("X-Served-By")) || "—";
}

function setStatus(text) {
  $("status").textContent = text;
  $("status").className = "badge state-" + text;
}

function showError(status, text, body) {
  setStatus("error");
  $("db-time").textContent = "—";
  $("db-engine").textContent = "—";
  $("error-status").textContent = status || "(no response / 응답 없음)";
  $("error-body").textContent = text;
  $("error").hidden = false;
  markPath(failedHop(status, body));
}

function showAnswer(body) {
  setStatus("ok");
  $("db-time").textContent = body.time;
  $("db-engine").textContent = engineOf(body.message);
  $("hop-db-engine").textContent = engineOf(body.message);
  markPath(null);
}

async function load() {
  setStatus("loading");
  $("error").hidden = true;
  HOPS.forEach((id) => setHop(id, "idle", "…"));
  let response;
  let text;
  try {
    response = await fetch("/api/", { cache: "no-store", headers: { Accept: "application/json" } });
    text = await response.text();
  } catch (err) {
    // nginx itself did not answer (stopped, or the page was opened from another server).
    showHeaders(null);
    showError(0, String(err), null);
    return;
  }
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: shown as text below.
  }
  $("raw").textContent = text;
  showHeaders(response);
  if (response.ok && body && typeof body.time === "string") {
    showAnswer(body);
  } else {
    showError(response.status, text, body);
  }
}

// The address the browser used is the port published on the host (nginx itself listens on 80).
$("browser-link").textContent = location.host;
$("retry").addEventListener("click", load);
load();
