/**
 * The operations domains the intent evaluation set is generated from (scripts/intent-eval-set.ts):
 * per domain its tools (resource, verb, description), the identifiers it acts on, and intents for
 * each task. `{id}` and `{env}` are filled per session. Intents under `para` share no word with
 * the tools' names and descriptions (the generator checks it).
 */

export interface ToolSpec {
  readonly res: string;
  readonly verb: string;
  readonly desc: string;
}

export interface Domain {
  readonly name: string;
  readonly ids: readonly string[];
  /** Argument keys: the resource identifier and the environment. */
  readonly idKey: string;
  readonly envKey: string;
  /** Extra arguments every call carries (not identifiers of the resource). */
  readonly extra?: Readonly<Record<string, unknown>>;
  readonly reads: readonly ToolSpec[];
  readonly write: ToolSpec;
  readonly destroy: ToolSpec;
  /** Intents of the read task, the write task and the destroy task: literal first, then paraphrases. */
  readonly readIntents: { readonly literal: readonly string[]; readonly para: readonly string[] };
  readonly writeIntents: { readonly literal: readonly string[]; readonly para: readonly string[] };
  readonly destroyIntents: { readonly literal: readonly string[]; readonly para: readonly string[] };
}

export const DOMAINS: readonly Domain[] = [
  {
    name: 'k8s', ids: ['web-frontend', 'orders-api', 'checkout-svc'], idKey: 'name', envKey: 'namespace',
    reads: [{ res: 'pods', verb: 'list', desc: 'list pods of a deployment' }, { res: 'rollout', verb: 'status', desc: 'rollout status of a deployment' }],
    write: { res: 'rollout', verb: 'restart', desc: 'rolling restart of a deployment' },
    destroy: { res: 'deployment', verb: 'delete', desc: 'delete a deployment and its pods' },
    readIntents: { literal: ['check the rollout status of {id} in {env}'], para: ['is {id} healthy on {env}?', 'see whether {id} came up fine on {env}'] },
    writeIntents: { literal: ['restart the {id} deployment in {env}'], para: ['bounce {id} on {env}', 'cycle the {id} containers on {env} so they pick up fresh config'] },
    destroyIntents: { literal: ['delete the {id} deployment in {env}'], para: ['tear down {id} on {env}, we no longer need it', 'scrap {id} on {env}'] },
  },
  {
    name: 'iam', ids: ['svc-reporting', 'ci-runner-bot', 'alice.moreau'], idKey: 'user', envKey: 'account',
    reads: [{ res: 'user', verb: 'get', desc: 'get an IAM user' }, { res: 'policies', verb: 'list', desc: 'list policies attached to an IAM user' }],
    write: { res: 'policy', verb: 'attach', desc: 'attach a policy to an IAM user' },
    destroy: { res: 'user', verb: 'delete', desc: 'delete an IAM user and its access keys' },
    readIntents: { literal: ['list the policies attached to user {id} in the {env} account'], para: ['what can {id} do in {env}?', 'review the permissions {id} holds on {env}'] },
    writeIntents: { literal: ['attach the read policy to user {id} in the {env} account'], para: ['give {id} read permissions on {env}', 'let {id} see reports on {env}'] },
    destroyIntents: { literal: ['delete the IAM user {id} in the {env} account'], para: ['offboard {id} from {env}', 'remove the identity {id} from {env} for good'] },
  },
  {
    name: 'secrets', ids: ['payments-api/stripe-key', 'orders-db/password', 'search/admin-token'], idKey: 'secret', envKey: 'env',
    reads: [{ res: 'secret', verb: 'describe', desc: 'describe a secret and its versions' }, { res: 'versions', verb: 'list', desc: 'list versions of a secret' }],
    write: { res: 'secret', verb: 'rotate', desc: 'rotate a secret to a new version' },
    destroy: { res: 'secret', verb: 'destroy', desc: 'destroy a secret and every version' },
    readIntents: { literal: ['describe the secret {id} in {env}'], para: ['when was {id} last changed on {env}?', 'how old is the credential {id} on {env}'] },
    writeIntents: { literal: ['rotate the secret {id} in {env}'], para: ['roll a fresh credential for {id} on {env}', 'mint fresh key material for {id} on {env}'] },
    destroyIntents: { literal: ['destroy the secret {id} in {env}'], para: ['purge {id} from the vault on {env}', 'wipe the credential {id} on {env}'] },
  },
  {
    name: 'dns', ids: ['example.com', 'shop.example.org', 'api.acme.io'], idKey: 'domain', envKey: 'zoneSet',
    reads: [{ res: 'dnssec', verb: 'get', desc: 'get DNSSEC status of a zone' }, { res: 'records', verb: 'list', desc: 'list records of a zone' }],
    write: { res: 'record', verb: 'upsert', desc: 'create or update a record in a zone' },
    destroy: { res: 'dnssec', verb: 'disable', desc: 'disable DNSSEC signing of a zone' },
    readIntents: { literal: ['check the DNSSEC status of {id} in {env}'], para: ['is {id} signed on {env}?', 'confirm {id} on {env} is cryptographically protected'] },
    writeIntents: { literal: ['update the TXT record of {id} in {env}'], para: ['point {id} at the new verification value on {env}', 'put the new ownership token on {id} for {env}'] },
    destroyIntents: { literal: ['disable DNSSEC for {id} in {env}'], para: ['switch off the cryptographic protection of {id} on {env}', 'remove the chain of trust of {id} on {env} before the transfer'] },
  },
  {
    name: 'cicd', ids: ['build-web', 'release-train', 'nightly-e2e'], idKey: 'pipeline', envKey: 'target',
    reads: [{ res: 'runs', verb: 'list', desc: 'list runs of a pipeline' }, { res: 'run', verb: 'logs', desc: 'fetch logs of a pipeline run' }],
    write: { res: 'run', verb: 'trigger', desc: 'trigger a pipeline run' },
    destroy: { res: 'pipeline', verb: 'delete', desc: 'delete a pipeline and its run history' },
    readIntents: { literal: ['list the recent runs of pipeline {id} for {env}'], para: ['why did {id} fail on {env}?', 'find out what broke in {id} targeting {env}'] },
    writeIntents: { literal: ['trigger a run of pipeline {id} for {env}'], para: ['kick off {id} toward {env}', 'ship {id} to {env} again'] },
    destroyIntents: { literal: ['delete the pipeline {id} for {env}'], para: ['retire {id} aimed at {env}', 'drop the {id} job on {env}, nobody uses it'] },
  },
  {
    name: 'flags', ids: ['new-checkout', 'dark-mode', 'beta-search'], idKey: 'flag', envKey: 'environment',
    reads: [{ res: 'flag', verb: 'get', desc: 'get a feature flag and its rules' }, { res: 'evaluations', verb: 'list', desc: 'list recent evaluations of a feature flag' }],
    write: { res: 'rollout', verb: 'set', desc: 'set the rollout percentage of a feature flag' },
    destroy: { res: 'flag', verb: 'archive-delete', desc: 'delete a feature flag' },
    readIntents: { literal: ['get the rules of feature flag {id} in {env}'], para: ['who sees {id} on {env}?', 'how many users are exposed to {id} on {env}'] },
    writeIntents: { literal: ['set the rollout percentage of flag {id} in {env} to 50'], para: ['expose {id} to half the users on {env}', 'ramp {id} up to 50 on {env}'] },
    destroyIntents: { literal: ['delete the feature flag {id} in {env}'], para: ['clean out the stale toggle {id} on {env}', 'remove the switch {id} on {env}'] },
  },
  {
    name: 'buckets', ids: ['logs-archive', 'user-uploads', 'ml-datasets'], idKey: 'bucket', envKey: 'project',
    reads: [{ res: 'objects', verb: 'list', desc: 'list objects in a storage bucket' }, { res: 'bucket', verb: 'stat', desc: 'size and object count of a storage bucket' }],
    write: { res: 'lifecycle', verb: 'put', desc: 'put a lifecycle rule on a storage bucket' },
    destroy: { res: 'objects', verb: 'purge', desc: 'purge every object in a storage bucket' },
    readIntents: { literal: ['list the objects in bucket {id} of {env}'], para: ['how big is {id} on {env}?', 'what is taking space in {id} on {env}'] },
    writeIntents: { literal: ['put a lifecycle rule on bucket {id} of {env}'], para: ['make {id} on {env} expire old files after 30 days', 'age out old files in {id} on {env}'] },
    destroyIntents: { literal: ['purge every object in bucket {id} of {env}'], para: ['empty {id} on {env}', 'wipe the contents of {id} on {env}'] },
  },
  {
    name: 'db', ids: ['orders-db', 'users-db', 'analytics-pg'], idKey: 'instance', envKey: 'env',
    reads: [{ res: 'query', verb: 'run-readonly', desc: 'run a read-only SQL query' }, { res: 'replicas', verb: 'list', desc: 'list read replicas of a database instance' }],
    write: { res: 'replica', verb: 'create', desc: 'create a read replica of a database instance' },
    destroy: { res: 'table', verb: 'drop', desc: 'drop a table of a database instance' },
    readIntents: { literal: ['run a read-only query on database {id} in {env}'], para: ['how many orders came in yesterday according to {id} on {env}?', 'count last week signups from {id} on {env}'] },
    writeIntents: { literal: ['create a read replica of database {id} in {env}'], para: ['add a follower copy of {id} on {env} for reporting', 'spin up another reader for {id} on {env}'] },
    destroyIntents: { literal: ['drop the temp table of database {id} in {env}'], para: ['get rid of the scratch data in {id} on {env}', 'clear out leftovers from {id} on {env}'] },
  },
  {
    name: 'crm', ids: ['acct-10442', 'acct-20881', 'acct-31007'], idKey: 'accountId', envKey: 'instance',
    reads: [{ res: 'account', verb: 'get', desc: 'get a CRM account' }, { res: 'contacts', verb: 'search', desc: 'search contacts of a CRM account' }],
    write: { res: 'account', verb: 'update', desc: 'update fields of a CRM account' },
    destroy: { res: 'account', verb: 'delete', desc: 'delete a CRM account and its contacts' },
    readIntents: { literal: ['get the CRM account {id} in {env}'], para: ['who is the owner of customer {id} on {env}?', 'pull up the client record {id} on {env}'] },
    writeIntents: { literal: ['update the owner field of CRM account {id} in {env}'], para: ['hand customer {id} over to Dana on {env}', 'reassign client {id} to the enterprise team on {env}'] },
    destroyIntents: { literal: ['delete the CRM account {id} in {env}'], para: ['erase customer {id} on {env} per their GDPR request', 'forget client {id} on {env}'] },
  },
  {
    name: 'payments', ids: ['ch_3Nx81', 'ch_9Qa22', 'ch_4Lm90'], idKey: 'charge', envKey: 'mode',
    reads: [{ res: 'charge', verb: 'retrieve', desc: 'retrieve a payment charge' }, { res: 'disputes', verb: 'list', desc: 'list disputes of a payment charge' }],
    write: { res: 'refund', verb: 'create', desc: 'create a refund of a payment charge' },
    destroy: { res: 'customer', verb: 'delete', desc: 'delete a payment customer and their saved cards' },
    readIntents: { literal: ['retrieve the payment charge {id} in {env}'], para: ['did {id} go through on {env}?', 'what happened with transaction {id} on {env}'] },
    writeIntents: { literal: ['create a refund of charge {id} in {env}'], para: ['give the money back for {id} on {env}', 'return the funds of {id} on {env}'] },
    destroyIntents: { literal: ['delete the payment customer of charge {id} in {env}'], para: ['erase the buyer behind {id} on {env}', 'forget the shopper of {id} on {env}'] },
  },
  {
    name: 'monitoring', ids: ['high-latency-api', 'disk-usage-db', 'error-rate-web'], idKey: 'alert', envKey: 'env',
    reads: [{ res: 'alert', verb: 'get', desc: 'get an alert rule and its state' }, { res: 'incidents', verb: 'list', desc: 'list incidents an alert fired' }],
    write: { res: 'alert', verb: 'silence', desc: 'silence an alert for a duration' },
    destroy: { res: 'alert', verb: 'delete', desc: 'delete an alert rule' },
    readIntents: { literal: ['get the state of alert {id} in {env}'], para: ['why is {id} firing on {env}?', 'is {id} noisy on {env} lately'] },
    writeIntents: { literal: ['silence alert {id} in {env} for two hours'], para: ['mute {id} on {env} during the maintenance window', 'quiet {id} on {env} until tonight'] },
    destroyIntents: { literal: ['delete the alert rule {id} in {env}'], para: ['retire {id} on {env}, it is obsolete', 'drop {id} from {env} for good'] },
  },
  {
    name: 'vms', ids: ['i-0a1b2c3d', 'i-0f9e8d7c', 'i-07aa55bb'], idKey: 'instanceId', envKey: 'env',
    reads: [{ res: 'instance', verb: 'describe', desc: 'describe a virtual machine instance' }, { res: 'metrics', verb: 'get', desc: 'get CPU and memory metrics of an instance' }],
    write: { res: 'instance', verb: 'resize', desc: 'resize a virtual machine instance to a new type' },
    destroy: { res: 'instance', verb: 'terminate', desc: 'terminate a virtual machine instance' },
    readIntents: { literal: ['describe the instance {id} in {env}'], para: ['is {id} overloaded on {env}?', 'how busy has {id} been on {env}'] },
    writeIntents: { literal: ['resize the instance {id} in {env} to a larger type'], para: ['give {id} on {env} more horsepower', 'bump {id} on {env} up a size'] },
    destroyIntents: { literal: ['terminate the instance {id} in {env}'], para: ['shut down {id} on {env} permanently and release it', 'kill off {id} on {env}'] },
  },
  {
    name: 'repos', ids: ['acme/web', 'acme/payments-service', 'acme/infra-modules'], idKey: 'repo', envKey: 'org',
    reads: [{ res: 'branches', verb: 'list', desc: 'list branches of a repository' }, { res: 'pulls', verb: 'list', desc: 'list pull requests of a repository' }],
    write: { res: 'branch-protection', verb: 'update', desc: 'update branch protection rules of a repository' },
    destroy: { res: 'repository', verb: 'delete', desc: 'delete a repository' },
    readIntents: { literal: ['list the open pull requests of repository {id} in {env}'], para: ['what is waiting for code review in {id} on {env}?', 'which changes to {id} on {env} still need eyes'] },
    writeIntents: { literal: ['update branch protection rules of repository {id} in {env}'], para: ['require two approvals before merging into {id} on {env}', 'lock down main of {id} on {env}'] },
    destroyIntents: { literal: ['delete the repository {id} in {env}'], para: ['remove {id} on {env} entirely', 'get rid of the dead project {id} on {env}'] },
  },
  {
    name: 'warehouse', ids: ['fct_orders', 'dim_customers', 'stg_events'], idKey: 'table', envKey: 'dataset',
    reads: [{ res: 'table', verb: 'preview', desc: 'preview rows of a warehouse table' }, { res: 'job', verb: 'history', desc: 'load job history of a warehouse table' }],
    write: { res: 'table', verb: 'backfill', desc: 'backfill a warehouse table for a date range' },
    destroy: { res: 'table', verb: 'truncate', desc: 'truncate a warehouse table' },
    readIntents: { literal: ['preview rows of warehouse table {id} in {env}'], para: ['are the numbers in {id} on {env} fresh?', 'when did {id} on {env} last refresh'] },
    writeIntents: { literal: ['backfill the warehouse table {id} in {env} for March'], para: ['reload last month into {id} on {env}', 'recompute March for {id} on {env}'] },
    destroyIntents: { literal: ['truncate the warehouse table {id} in {env}'], para: ['empty {id} on {env} before the reload', 'wipe everything in {id} on {env}'] },
  },
  {
    name: 'notify', ids: ['oncall-payments', 'status-subscribers', 'eng-all'], idKey: 'channel', envKey: 'workspace',
    reads: [{ res: 'channel', verb: 'get', desc: 'get a notification channel and its subscribers' }, { res: 'messages', verb: 'list', desc: 'list recent messages sent to a channel' }],
    write: { res: 'message', verb: 'send', desc: 'send a message to a notification channel' },
    destroy: { res: 'channel', verb: 'delete', desc: 'delete a notification channel and its subscribers' },
    readIntents: { literal: ['list the recent messages sent to channel {id} in {env}'], para: ['what did we tell {id} on {env} today?', 'who follows {id} on {env}'] },
    writeIntents: { literal: ['send a message to channel {id} in {env} about the outage'], para: ['tell {id} on {env} that the outage is over', 'let {id} on {env} know about the incident'] },
    destroyIntents: { literal: ['delete the notification channel {id} in {env}'], para: ['remove {id} on {env}, the team moved', 'scrap {id} on {env}'] },
  },
];

export const ENVIRONMENTS = ['production', 'staging', 'dev', 'sandbox'] as const;
