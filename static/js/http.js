// JSON over fetch with the session cookie and Django's CSRF token: what every screen shares.
// The API answers errors as JSON with a message; that message is what the Error carries.
"use strict";

export function csrfToken() {
  const cookie = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="))?.split("=")[1];
  return cookie || document.querySelector("input[name=csrfmiddlewaretoken]")?.value || "";
}

async function answer(response) {
  let body = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  if (!response.ok) throw new Error((body && body.error) || `${response.status} ${response.statusText}`);
  return body;
}

export async function getJSON(url) {
  return answer(await fetch(url, { credentials: "same-origin" }));
}

export async function postJSON(url, body = {}) {
  return answer(await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body),
  }));
}
