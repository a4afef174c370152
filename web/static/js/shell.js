// The thin JS shell: runs before Python. Registers the service worker and records when the shell was painted.
performance.mark('shell-script')
requestAnimationFrame(() => performance.mark('shell-painted'))

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('./sw.js').catch((err) => console.warn('service worker not registered:', err))
}

window.addEventListener('error', (event) => {
  const status = document.getElementById('status')
  if (status && !document.body.classList.contains('ready')) {
    status.textContent = 'failed to start: ' + (event.message || 'unknown error')
    status.dataset.state = 'error'
  }
})
