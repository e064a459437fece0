// The web app's service worker: shows Parley's Web Push notifications (payload: roomId, messageId,
// seq, title, body, unreadTotal, reason, count) and opens the room when one is clicked.
self.addEventListener('push', (event) => {
  const n = event.data ? event.data.json() : null;
  if (!n) return;
  event.waitUntil(
    Promise.all([
      self.registration.showNotification(n.title, { body: n.body, tag: n.roomId, icon: '/icon.svg', data: { roomId: n.roomId } }),
      navigator.setAppBadge ? navigator.setAppBadge(n.unreadTotal).catch(() => undefined) : undefined,
    ]),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = `/#room=${encodeURIComponent(event.notification.data?.roomId ?? '')}`;
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      const open = windows.find((w) => new URL(w.url).origin === self.location.origin);
      return open ? open.focus() : self.clients.openWindow(url);
    }),
  );
});
