// Passkeys on the hosted pages (pages/passkey.rs). The page holds a hidden form whose
// data-start / data-verify name the Experience API's ceremony routes and data-ceremony says
// which one ("create" or "get"). On submit: the options from data-start, the browser's
// WebAuthn ceremony, the answer posted to data-verify, then the form itself is posted with
// the verification id and the server binds or accepts it and redirects. Errors go to the
// #passkey-error element in the page's language (its data-* texts). Nothing is written as
// markup: only textContent and attributes.
'use strict';

(() => {
  // base64url <-> bytes (WebAuthn's binary fields travel as base64url in JSON).
  const toBytes = (text) => {
    const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
    return Uint8Array.from(atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4)), (c) => c.charCodeAt(0));
  };
  const toText = (buffer) => {
    let binary = '';
    for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };
  const descriptors = (list) => (list || []).map((c) => ({ ...c, id: toBytes(c.id) }));

  // The two ceremonies, from the server's options to the JSON payload it verifies; kept apart
  // from the page so that another button (a first-factor passkey sign-in) can use them.
  const createCredential = async (options) => {
    const credential = await navigator.credentials.create({
      publicKey: {
        ...options,
        challenge: toBytes(options.challenge),
        user: { ...options.user, id: toBytes(options.user.id) },
        excludeCredentials: descriptors(options.excludeCredentials),
      },
    });
    const response = credential.response;
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: 'WebAuthn',
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      response: {
        clientDataJSON: toText(response.clientDataJSON),
        attestationObject: toText(response.attestationObject),
        transports: typeof response.getTransports === 'function' ? response.getTransports() : [],
      },
    };
  };

  const getAssertion = async (options) => {
    const assertion = await navigator.credentials.get({
      publicKey: {
        ...options,
        challenge: toBytes(options.challenge),
        allowCredentials: descriptors(options.allowCredentials),
      },
    });
    const response = assertion.response;
    return {
      id: assertion.id,
      rawId: toText(assertion.rawId),
      type: 'WebAuthn',
      authenticatorAttachment: assertion.authenticatorAttachment || undefined,
      response: {
        clientDataJSON: toText(response.clientDataJSON),
        authenticatorData: toText(response.authenticatorData),
        signature: toText(response.signature),
        userHandle: response.userHandle ? toText(response.userHandle) : undefined,
      },
    };
  };

  class ApiError extends Error {}

  // A same-origin JSON call (the interaction cookie goes with it); the page's query carries
  // app_id, which picks this sign-in among the browser's pending ones.
  const post = async (path, body) => {
    const response = await fetch(path + window.location.search, {
      method: 'POST',
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const reply = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(reply && reply.code ? reply.code : String(response.status));
    return reply;
  };

  // start → ceremony → verify; the verification id.
  const runCeremony = async ({ kind, start, verify }) => {
    const started = await post(start);
    const options = kind === 'create' ? started.registrationOptions : started.authenticationOptions;
    const payload = kind === 'create' ? await createCredential(options) : await getAssertion(options);
    const verified = await post(verify, { verificationId: started.verificationId, payload });
    return verified.verificationId;
  };

  window.kidoPasskey = { createCredential, getAssertion, runCeremony };

  const form = document.getElementById('passkey');
  const error = document.getElementById('passkey-error');
  if (!form || !error) return;
  const button = form.querySelector('button');
  const show = (text) => {
    error.textContent = text;
    error.hidden = false;
    button.disabled = false;
    button.focus();
  };
  if (!window.PublicKeyCredential || !navigator.credentials) {
    show(error.dataset.unsupported);
    return;
  }
  form.hidden = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    button.disabled = true;
    try {
      const id = await runCeremony({ kind: form.dataset.ceremony, start: form.dataset.start, verify: form.dataset.verify });
      form.elements.verification_id.value = id;
      form.submit();
    } catch (e) {
      // NotAllowedError: the user dismissed the browser's prompt, or it timed out.
      const cancelled = e && (e.name === 'NotAllowedError' || e.name === 'AbortError');
      show(cancelled ? error.dataset.cancelled : error.dataset.failed);
    }
  });
})();
