// The thin JS shell: runs before Python. Registers the service worker, offers updates, and records when the
// shell was painted.
performance.mark('shell-script')
requestAnimationFrame(() => performance.mark('shell-painted'))

// Both composers (the feed's and #asknostr's) from the page's one <template id="composer-form">: each
// [data-composer="<prefix>"] becomes the form, its ids prefixed (the feed's "composer-text", the community's
// "community-composer-text"…), its prompt the placeholder's data-placeholder.
function makeComposers () {
  const template = document.getElementById('composer-form')
  for (const mount of document.querySelectorAll('[data-composer]')) {
    const prefix = mount.dataset.composer
    const form = template.content.firstElementChild.cloneNode(true)
    form.id = prefix + 'composer'
    form.dataset.community = mount.dataset.community
    for (const node of form.querySelectorAll('[data-id]')) node.id = prefix + node.dataset.id
    for (const node of form.querySelectorAll('[data-for]')) node.htmlFor = prefix + node.dataset.for
    form.querySelector('.prompt').textContent = mount.dataset.placeholder
    form.querySelector('textarea').placeholder = mount.dataset.placeholder
    mount.replaceWith(form)
  }
}
makeComposers()

function offerUpdate (worker) {
  const banner = document.getElementById('update-banner')
  banner.hidden = false
  document.getElementById('update-reload').addEventListener('click', () => {
    navigator.serviceWorker.addEventListener('controllerchange', () => location.reload())
    // media streaming from the old worker would hold the new one back: stop it first
    for (const media of document.querySelectorAll('figure.torrent-media :is(img, video, audio)')) {
      media.removeAttribute('src')
      if (media.load) media.load()
    }
    worker.postMessage({ type: 'SKIP_WAITING' })
  }, { once: true })
}

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('./sw.js').then((registration) => {
    // a version that installed while this page ran waits for the user: the page keeps its own files meanwhile
    if (registration.waiting && navigator.serviceWorker.controller) offerUpdate(registration.waiting)
    registration.addEventListener('updatefound', () => {
      const worker = registration.installing
      worker.addEventListener('statechange', () => {
        if (worker.state === 'installed' && navigator.serviceWorker.controller) offerUpdate(worker)
      })
    })
  }).catch((err) => console.warn('service worker not registered:', err))
}

window.addEventListener('error', (event) => {
  const status = document.getElementById('status')
  if (status && !document.body.classList.contains('ready')) {
    status.textContent = 'failed to start: ' + (event.message || 'unknown error')
    status.dataset.state = 'error'
  }
})
