import { useEffect, useState } from 'preact/hooks';
import type { ChatStore } from './store.ts';

type State = 'unsupported' | 'off' | 'on' | 'denied' | 'working';

const supported = () => typeof navigator !== 'undefined' && 'serviceWorker' in navigator && typeof PushManager !== 'undefined' && typeof Notification !== 'undefined';

/**
 * "Notify me": subscribes this browser to Web Push (the server's VAPID key, the subscription sent
 * to the API), or stops it. Notifications are shown by /sw.js while no tab is connected.
 */
export function NotifyMe({ store }: { store: ChatStore }) {
  const [state, setState] = useState<State>(supported() ? 'working' : 'unsupported');
  useEffect(() => {
    if (!supported()) return;
    if (Notification.permission === 'denied') return setState('denied');
    void navigator.serviceWorker
      .getRegistration('/sw.js')
      .then((r) => r?.pushManager.getSubscription())
      .then((s) => setState(s ? 'on' : 'off'), () => setState('off'));
  }, []);
  if (state === 'unsupported') return null;

  const toggle = async () => {
    setState('working');
    try {
      await navigator.serviceWorker.register('/sw.js');
      // A subscription needs an active worker: `register` resolves while a new one still installs.
      const registration = await navigator.serviceWorker.ready;
      const existing = await registration.pushManager.getSubscription();
      if (existing) {
        await store.client.api.unsubscribePush(existing.endpoint);
        await existing.unsubscribe();
        return setState('off');
      }
      const { publicKey } = await store.client.api.vapidKey();
      const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: publicKey });
      await store.client.api.subscribePush(subscription.toJSON() as Parameters<typeof store.client.api.subscribePush>[0]);
      setState('on');
    } catch (err) {
      setState(Notification.permission === 'denied' ? 'denied' : 'off');
      store.fail(err);
    }
  };
  return (
    <button type="button" aria-pressed={state === 'on'} disabled={state === 'working' || state === 'denied'} onClick={() => void toggle()} title={state === 'denied' ? 'Notifications are blocked in this browser' : undefined}>
      {state === 'on' ? 'Notifications on' : 'Notify me'}
    </button>
  );
}
