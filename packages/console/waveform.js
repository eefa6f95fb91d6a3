import { api } from './api.js';
import { h } from './dom.js';

/** Peaks of a file this server handed out (the server reads the samples; the page gets min/max per point). */
export const peaksOf = (url, points = 1000) => api(`/api/v1/peaks?url=${encodeURIComponent(url)}&points=${points}`);

/**
 * One waveform on a canvas: `layers` are peaks drawn over one another (e.g. before in grey,
 * after in colour), `range` is shaded, a cursor shows the playback position. Clicking seeks
 * (`onSeek(seconds)`); with `onSelect`, dragging picks a range instead (the number fields
 * beside it are the keyboard path). The arrow keys move the cursor by 5 s.
 */
export function waveform({ duration, layers, range = null, label, onSeek, onSelect }) {
  const canvas = h('canvas', { class: 'waveform', tabindex: '0', role: 'img', 'aria-label': label });
  let cursor = null;
  let current = range;
  let dragFrom = null;

  const secondsAt = (event) => {
    const box = canvas.getBoundingClientRect();
    return Math.max(0, Math.min(duration, ((event.clientX - box.left) / box.width) * duration));
  };

  function draw() {
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
    const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    const g = canvas.getContext('2d');
    g.clearRect(0, 0, width, height);
    const x = (seconds) => (seconds / duration) * width;
    if (current) {
      g.fillStyle = 'rgba(255, 176, 0, 0.22)';
      g.fillRect(x(current.start), 0, x(current.end) - x(current.start), height);
      g.fillStyle = 'rgba(138, 90, 0, 0.9)';
      g.fillRect(x(current.start), 0, Math.max(1, ratio), height);
      g.fillRect(x(current.end), 0, Math.max(1, ratio), height);
    }
    for (const { peaks, colour } of layers) {
      const mid = height / 2;
      g.fillStyle = colour;
      const span = peaks.duration / duration;
      for (let i = 0; i < peaks.points; i += 1) {
        const left = (i / peaks.points) * span * width;
        const right = ((i + 1) / peaks.points) * span * width;
        const top = mid - peaks.max[i] * mid;
        const bottom = mid - peaks.min[i] * mid;
        g.fillRect(left, top, Math.max(1, right - left), Math.max(1, bottom - top));
      }
    }
    if (cursor !== null) {
      g.fillStyle = '#b3261e';
      g.fillRect(x(cursor), 0, Math.max(1, 2 * ratio), height);
    }
  }

  canvas.addEventListener('pointerdown', (event) => {
    canvas.focus();
    if (onSelect) {
      dragFrom = secondsAt(event);
      canvas.setPointerCapture(event.pointerId);
    } else onSeek?.(secondsAt(event));
  });
  canvas.addEventListener('pointermove', (event) => {
    if (dragFrom === null) return;
    const at = secondsAt(event);
    current = { start: Math.min(dragFrom, at), end: Math.max(dragFrom, at) };
    draw();
  });
  canvas.addEventListener('pointerup', (event) => {
    if (dragFrom === null) return;
    const at = secondsAt(event);
    const picked = { start: Math.min(dragFrom, at), end: Math.max(dragFrom, at) };
    dragFrom = null;
    if (picked.end - picked.start >= 0.05) onSelect(picked);
    else draw();
  });
  canvas.addEventListener('keydown', (event) => {
    if (!onSeek || (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight')) return;
    event.preventDefault();
    const from = cursor ?? 0;
    onSeek(Math.max(0, Math.min(duration, from + (event.key === 'ArrowLeft' ? -5 : 5))));
  });
  new ResizeObserver(draw).observe(canvas);

  return {
    element: canvas,
    setCursor(seconds) {
      cursor = seconds;
      draw();
    },
    setRange(next) {
      current = next;
      draw();
    },
  };
}
