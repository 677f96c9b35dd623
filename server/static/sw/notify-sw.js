// The service worker behind "Nhận thông báo" (docs/notifications.md): the push service
// wakes it with the server's message (decrypted by the browser); it shows the notification
// and opens the ticket's page when it is tapped. Nothing else: no caching, no fetch handler.
// Not a page module (hence not under js/, where tests/server/test_no_inline_scripts.py
// wants every file loaded by a page): the browser runs it as notify.js's service worker.

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { title: "Trung tâm Phục vụ hành chính công", body: event.data ? event.data.text() : "" };
  }
  event.waitUntil(
    self.registration.showNotification(data.title || "Trung tâm Phục vụ hành chính công", {
      body: data.body || "",
      tag: data.tag || "tthcc",
      renotify: true,
      lang: "vi",
      data: { url: data.url || "/" },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL(event.notification.data.url || "/", self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      const open = windows.find((w) => w.url === url);
      return open ? open.focus() : self.clients.openWindow(url);
    }),
  );
});
