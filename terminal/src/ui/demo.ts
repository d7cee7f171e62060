import { DemoInfoSchema } from '../bridge/kiosk-bridge.js';

/**
 * Demo only: buttons that "tap" the demo cards, when the URL carries the demo token
 * (`npm start` prints it). The server refuses simulated taps without the token, and
 * offers them only on a loopback address. `render` puts the buttons' words in the
 * screen's language.
 */
export async function startDemo(render: () => void): Promise<void> {
  const m = /(?:^#|&)demo=([A-Za-z0-9_-]{16,})/.exec(location.hash);
  if (!m?.[1]) return;
  const token = m[1];
  const r = await fetch('/api/demo', { headers: { authorization: `Bearer ${token}` } });
  if (!r.ok) return;
  const info = DemoInfoSchema.parse(await r.json());
  const box = document.getElementById('demo-cards');
  const aside = document.getElementById('demo');
  if (!box || !aside) return;
  for (const c of info.cards) {
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.uid = c.uid;
    b.dataset.label = c.label;
    b.addEventListener('click', () => {
      void fetch('/api/demo/tap', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ uid: c.uid }),
      });
    });
    box.append(b);
  }
  aside.hidden = false;
  render();
}
