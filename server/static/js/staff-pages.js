/* Shared by the supervisor and counter dossier pages: session login and JSON calls.
   The pages log in with the session cookie (POST /api/v1/auth/login). */
(function (global) {
  "use strict";

  function api(method, url, body) {
    var options = { method: method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (r) {
      if (r.status === 204) return null;
      return r.json().then(function (j) {
        if (!r.ok) {
          var error = new Error(j.message || "HTTP " + r.status);
          error.status = r.status;
          throw error;
        }
        return j;
      });
    });
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "className") node.className = attrs[k];
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), attrs[k]);
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) {
      if (c !== null && c !== undefined) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function dmy(iso) {
    if (!iso) return "";
    var m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?/.exec(iso);
    if (!m) return iso;
    return (m[4] ? m[4] + ":" + m[5] + " " : "") + m[3] + "/" + m[2] + "/" + m[1];
  }

  /* Show the login form until someone with one of `roles` is logged in, then onReady(user). */
  function requireLogin(roles, onReady) {
    var box = document.getElementById("login");
    var app = document.getElementById("app");
    var error = document.getElementById("login-error");
    function ready(user) {
      if (roles.indexOf(user.role) < 0) {
        error.textContent = "Tài khoản này không có quyền xem trang này. / Not allowed for your role.";
        error.hidden = false;
        box.hidden = false; app.hidden = true;
        return;
      }
      box.hidden = true; app.hidden = false;
      var who = document.getElementById("who");
      if (who) who.textContent = (user.full_name || user.username) + " (" + user.role + ")";
      onReady(user);
    }
    api("GET", "/api/v1/auth/me").then(function (j) { ready(j.user); }).catch(function () { box.hidden = false; });
    box.addEventListener("submit", function (e) {
      e.preventDefault();
      error.hidden = true;
      api("POST", "/api/v1/auth/login", {
        username: document.getElementById("username").value.trim(),
        password: document.getElementById("password").value
      }).then(function (j) { ready(j.user); }).catch(function (err) { error.textContent = err.message; error.hidden = false; });
    });
    var logout = document.getElementById("logout");
    if (logout) logout.addEventListener("click", function () {
      api("POST", "/api/v1/auth/logout").then(function () { location.reload(); });
    });
  }

  global.Staff = { api: api, el: el, dmy: dmy, requireLogin: requireLogin };
})(window);
