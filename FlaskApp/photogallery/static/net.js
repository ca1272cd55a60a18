// Talking to the app from the pages: the CSRF token, JSON calls, and the sign-in that expired.
"use strict";

export class SignedOut extends Error {}
export class StaleForm extends Error {} // the CSRF token belongs to an older session

let csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

export const csrfToken = () => csrf;

// After signing in again the session is new, and so is its CSRF token.
export async function refreshCsrf() {
  const page = await fetch(window.location.href, { credentials: "same-origin" });
  if (!page.ok || page.redirected) throw new SignedOut();
  const html = new DOMParser().parseFromString(await page.text(), "text/html");
  csrf = html.querySelector('meta[name="csrf-token"]').content;
}

// XMLHttpRequest rather than fetch: only it reports upload progress.
export function send(url, body, { progress, headers = {}, method = "POST" } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    if (progress) {
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) progress(e.loaded / e.total); };
    }
    xhr.onload = () => {
      let data = {};
      try { data = JSON.parse(xhr.responseText || "{}"); } catch { data = {}; }
      resolve({ status: xhr.status, data });
    };
    xhr.onerror = () => reject(new TypeError("unreachable"));
    xhr.send(body);
  });
}

// A call to the app's JSON API; the server's own message becomes the error's.
export async function api(url, { method = "POST", body = null, json = false, progress } = {}) {
  const headers = { "X-CSRFToken": csrf, Accept: "application/json" };
  if (json) headers["Content-Type"] = "application/json";
  const payload = json ? JSON.stringify(body) : body;
  const { status, data } = await send(url, payload, { progress, headers, method });
  if (status === 401) throw new SignedOut();
  if (status === 400 && data.reason === "csrf") throw new StaleForm();
  if (status >= 300) throw new Error(data.error || `the server answered HTTP ${status}`);
  return data;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

// Files dropped anywhere on the page go to `onFiles`; the page shows where they will land.
export function dropAnywhere(onFiles) {
  let depth = 0;
  const hasFiles = (e) => [...(e.dataTransfer?.types || [])].includes("Files");
  document.addEventListener("dragenter", (e) => {
    if (!hasFiles(e)) return;
    depth += 1;
    document.body.classList.add("dropping");
  });
  document.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) document.body.classList.remove("dropping");
  });
  document.addEventListener("dragover", (e) => { if (hasFiles(e)) e.preventDefault(); });
  document.addEventListener("drop", (e) => {
    depth = 0;
    document.body.classList.remove("dropping");
    if (!e.dataTransfer?.files.length) return;
    e.preventDefault();
    onFiles([...e.dataTransfer.files].filter((f) => f.type.startsWith("image/") || /\.heic$/i.test(f.name)));
  });
}
