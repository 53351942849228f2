/**
 * Loaded once per reusable V8 context, before any workflow (`WORKFLOW_BUNDLER_OPTIONS` preloads
 * it): noble's curves then live in a module state every session shares, and one verification of
 * a fixed signature per curve here builds what their first use builds (Ed25519's base-point
 * table, ≈ a thousand point additions) and warms the code. Without it each session rebuilt them in
 * its first signed-decision check: with the SDK's reusable context every workflow run gets fresh
 * module state. Only caches of constants live here — no per-workflow state, nothing nondeterministic.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';

// RFC 8032 §7.1, test 1 (the empty message).
ed25519.verify(
  hexToBytes('e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'),
  new Uint8Array(0),
  hexToBytes('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'),
);
// A P-256 signature made once for this warm-up, checked as webauthn.ts checks a passkey's.
p256.verify(
  hexToBytes('3045022100a3f71ba9906f42e51918b3421148fe7c2629e3cd318b8bca46ebe33db5bea19902200e32bb297cff5a8e198acce0eb97fb0ff9183968e31c855563e8b5c7d8331a57'),
  utf8ToBytes('gatehouse: warm the curves'),
  hexToBytes('0429ee1aad0ad82801ee300e63a304e5f66e8ee96f36ff55393b0e0f1933c882a9dc75255775dce7a6101afc6240365791b491af020acfc99a2eade513eb6bf777'),
  { format: 'der', lowS: false, prehash: true },
);
