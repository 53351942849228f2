/**
 * Passkeys: enrolment from a one-time invite and sign-in, as a WebAuthn relying party
 * (`@simplewebauthn/server`). Enrolment verifies the registration (user verification required,
 * ES256 only: the workflow verifies P-256), uses the invite and saves the passkey with the key
 * grant the registrar signs — the statement every session and `audit verify` trust the passkey by.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse, type AuthenticationResponseJSON, type RegistrationResponseJSON } from '@simplewebauthn/server';
import { convertCOSEtoPKCS } from '@simplewebauthn/server/helpers';
import { base64 } from '@scure/base';
import { checkKeyGrant, KEY_GRANT_PAYLOAD_TYPE, p256KeyIdOf, signEnvelope, type Keyset } from '../policies/trust';
import { secretKeyBytes, type SigningKey } from '../client/trust/key-files';
import { ConsoleError } from './errors';
import type { ConsoleStore, Invite, Passkey } from './store';

/** How long a passkey's grant lasts; a person enrols again after it. */
export const GRANT_LIFETIME_MS = 365 * 24 * 60 * 60 * 1000;
const CHALLENGE_TTL_MS = 5 * 60 * 1000;
/** COSE algorithm ES256 (P-256 with SHA-256): the only one the workflow verifies. */
const ES256 = -7;

export interface RelyingParty {
  /** The relying party id: the console's host name (`localhost` on the development stack). */
  readonly rpId: string;
  /** The console's origin, e.g. `http://localhost:4100`. */
  readonly origin: string;
}

/**
 * Challenges handed out, kept by nobody until answered. Sign-in options are public, so a store of
 * open challenges, however capped, lets a flood of them push out the ones people are answering. A
 * challenge id instead carries its challenge, its end and its invite, sealed with an HMAC under a
 * key only this process holds (a restart ends them, as it ends every console session). An id is
 * answered once: it is kept from its answer until it expires, and given back if the answer fails,
 * so only a verified answer — a person's passkey — leaves an entry behind.
 */
export class Challenges {
  readonly #key = randomBytes(32);
  /** Answered ids (and those being verified) → when they expire. */
  readonly #answered = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  issue(challenge: string, inviteId?: string): string {
    const body = Buffer.from(JSON.stringify([challenge, this.now() + CHALLENGE_TTL_MS, inviteId ?? ''])).toString('base64url');
    return `${body}.${this.#seal(body)}`;
  }

  /** Ids kept as answered: those of verified answers not yet expired. */
  get answered(): number {
    return this.#answered.size;
  }

  /** Runs `verify` with the challenge behind `id`, which it uses up unless `verify` throws. */
  async answer<T>(id: unknown, verify: (c: { readonly challenge: string; readonly inviteId?: string }) => Promise<T>): Promise<T> {
    const now = this.now();
    for (const [k, until] of this.#answered) if (until < now) this.#answered.delete(k);
    const c = typeof id === 'string' && !this.#answered.has(id) ? this.#open(id) : undefined;
    if (!c || c.until < now) throw new ConsoleError(400, 'challenge', 'the passkey challenge is unknown, used or expired: start again');
    this.#answered.set(id as string, c.until);
    try {
      return await verify({ challenge: c.challenge, ...(c.inviteId ? { inviteId: c.inviteId } : {}) });
    } catch (err) {
      this.#answered.delete(id as string);
      throw err;
    }
  }

  #seal(body: string): string {
    return createHmac('sha256', this.#key).update(body).digest('base64url');
  }

  /** The sealed content of an id this process issued, or undefined. */
  #open(id: string): { challenge: string; until: number; inviteId?: string } | undefined {
    const dot = id.indexOf('.');
    if (id.length > 2000 || dot < 0) return undefined;
    const body = id.slice(0, dot);
    const seal = Buffer.from(id.slice(dot + 1));
    const expected = Buffer.from(this.#seal(body));
    if (seal.length !== expected.length || !timingSafeEqual(seal, expected)) return undefined;
    const [challenge, until, inviteId] = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as [string, number, string];
    return { challenge, until, ...(inviteId ? { inviteId } : {}) };
  }
}

export class Passkeys {
  readonly #challenges = new Challenges();

  constructor(
    private readonly store: ConsoleStore,
    private readonly rp: RelyingParty,
    private readonly registrar: SigningKey,
    private readonly keyset: Keyset,
  ) {}

  /** Why a passkey's key is withdrawn, or undefined: listed as revoked in the keyset (how a passkey is withdrawn). */
  revoked(keyId: string): string | undefined {
    return this.keyset.keys.some((k) => k.keyId === keyId && k.revoked) ? `passkey \`${keyId}\` is revoked in the keyset` : undefined;
  }

  /** Why a passkey may not sign in now, or undefined: revoked, or its grant (the registrar's signature, its end) no longer holds. */
  withdrawn(keyId: string, grant: unknown): string | undefined {
    const checked = checkKeyGrant(grant, this.keyset, Date.now());
    return this.revoked(keyId) ?? (checked.ok ? undefined : checked.message);
  }

  /** The invite behind a link's secret, if it can still be used; a clear error otherwise. */
  async usableInvite(secret: unknown): Promise<Invite> {
    const invite = typeof secret === 'string' && secret.length <= 200 ? await this.store.inviteBySecret(secret) : undefined;
    if (!invite) throw new ConsoleError(400, 'invite-unknown', 'this enrolment link is not valid: ask for a new invite');
    if (invite.usedAt) throw new ConsoleError(400, 'invite-used', `this enrolment link was already used at ${invite.usedAt}: ask for a new invite`);
    if (Date.parse(invite.expiresAt) <= Date.now()) throw new ConsoleError(400, 'invite-expired', `this enrolment link expired at ${invite.expiresAt}: ask for a new invite`);
    return invite;
  }

  async registrationOptions(secret: unknown) {
    const invite = await this.usableInvite(secret);
    const options = await generateRegistrationOptions({
      rpName: 'Gatehouse',
      rpID: this.rp.rpId,
      userName: invite.principal,
      userDisplayName: `${invite.principal} (${invite.role})`,
      attestationType: 'none',
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      supportedAlgorithmIDs: [ES256],
    });
    return { challengeId: this.#challenges.issue(options.challenge, invite.inviteId), options, principal: invite.principal, role: invite.role };
  }

  /** Verifies the registration, signs the grant, uses the invite and saves the passkey. */
  async enrol(secret: unknown, challengeId: unknown, response: RegistrationResponseJSON): Promise<Passkey> {
    const invite = await this.usableInvite(secret);
    return this.#challenges.answer(challengeId, async (c) => {
      if (c.inviteId !== invite.inviteId) throw new ConsoleError(400, 'challenge', 'the passkey challenge belongs to another invite');
      let verified;
      try {
        verified = await verifyRegistrationResponse({ response, expectedChallenge: c.challenge, expectedOrigin: this.rp.origin, expectedRPID: this.rp.rpId, requireUserVerification: true, supportedAlgorithmIDs: [ES256] });
      } catch (err) {
        throw new ConsoleError(400, 'passkey', `the passkey registration does not verify: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (!verified.verified) throw new ConsoleError(400, 'passkey', 'the passkey registration does not verify');
      const cred = verified.registrationInfo.credential;
      const point = convertCOSEtoPKCS(cred.publicKey);
      if (point.length !== 65) throw new ConsoleError(400, 'passkey', 'the passkey is not a P-256 key');
      const keyId = p256KeyIdOf(point);
      const now = Date.now();
      const grant = signEnvelope(
        {
          v: 1,
          kind: 'key-grant',
          keyId,
          principal: invite.principal,
          role: invite.role,
          publicKey: base64.encode(point),
          credentialId: cred.id,
          rpId: this.rp.rpId,
          origin: this.rp.origin,
          inviteId: invite.inviteId,
          issuedAt: new Date(now).toISOString(),
          notAfter: new Date(now + GRANT_LIFETIME_MS).toISOString(),
        },
        secretKeyBytes(this.registrar),
        this.registrar.keyId,
        KEY_GRANT_PAYLOAD_TYPE,
      );
      const passkey = { credentialId: cred.id, keyId, principal: invite.principal, role: invite.role, publicKey: cred.publicKey, grant };
      if (!(await this.store.enrol(invite.inviteId, passkey))) throw new ConsoleError(400, 'invite-used', 'this enrolment link was used or expired meanwhile: ask for a new invite');
      return { ...passkey, counter: cred.counter };
    });
  }

  async signInOptions() {
    const options = await generateAuthenticationOptions({ rpID: this.rp.rpId, userVerification: 'required' });
    return { challengeId: this.#challenges.issue(options.challenge), options };
  }

  /** Verifies a sign-in assertion; the passkey it names. */
  async signIn(challengeId: unknown, response: AuthenticationResponseJSON): Promise<Passkey> {
    return this.#challenges.answer(challengeId, async (c) => {
      const passkey = typeof response?.id === 'string' ? await this.store.passkey(response.id) : undefined;
      if (!passkey) throw new ConsoleError(401, 'unknown-passkey', 'this passkey is not enrolled here: enrol from an invite first');
      let verified;
      try {
        verified = await verifyAuthenticationResponse({
          response,
          expectedChallenge: c.challenge,
          expectedOrigin: this.rp.origin,
          expectedRPID: this.rp.rpId,
          credential: { id: passkey.credentialId, publicKey: new Uint8Array(passkey.publicKey), counter: passkey.counter },
          requireUserVerification: true,
        });
      } catch (err) {
        throw new ConsoleError(401, 'passkey', `the passkey sign-in does not verify: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (!verified.verified) throw new ConsoleError(401, 'passkey', 'the passkey sign-in does not verify');
      const withdrawn = this.withdrawn(passkey.keyId, passkey.grant);
      if (withdrawn) throw new ConsoleError(401, 'passkey-withdrawn', `${withdrawn}: it signs in no more`);
      await this.store.setCounter(passkey.credentialId, verified.authenticationInfo.newCounter);
      return passkey;
    });
  }
}
