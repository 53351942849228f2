/**
 * Makes the certificates docker-compose.yml mounts for mutual TLS between the Gatehouse services
 * and the Temporal frontend — the same set `gatehouse start --temporal server` makes per data dir
 * (worker/devstack/temporal-tls.ts): a CA, the server's certificate (with the compose host name
 * `temporal`), the server's system worker's, and one client certificate per Gatehouse role.
 * Existing files are kept; delete the folder to start over with a new CA.
 *
 *   node --import tsx deploy/make-temporal-certs.ts [folder, default secrets/temporal-tls] [more host names…]
 */
import { ensureTemporalTls } from '../worker/devstack/temporal-tls';

async function main(): Promise<void> {
  const [dir = 'secrets/temporal-tls', ...hosts] = process.argv.slice(2);
  const set = await ensureTemporalTls(dir, { hosts: ['temporal', ...hosts] });
  process.stdout.write(`${set.created.length > 0 ? `made ${set.created.join(', ')}` : 'every certificate was there already'} in ${dir}\n`);
  process.stdout.write(`keep ${set.caKeyFile} offline once issued; the containers run as uid 1000: \`sudo chown 1000 ${dir}/*.key\`\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`make-temporal-certs: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
