/// <reference path="./.sst/platform/config.d.ts" />
/**
 * The AWS deployment (SST 4.x; docs/deploy.md). One ledger table, four functions,
 * one function and one table per hosted validator,
 * the secrets they need, and nothing linked that a function does not read:
 *
 * | function   | trigger                         | links |
 * | ---------- | ------------------------------- | ----- |
 * | ApiHandler | API Gateway HTTP API `$default` | LedgerTable, ValidatorSet, AdminKeyHash, WebhookSealingKeys |
 * | Rounds     | CronV2 rate(1 minute)           | LedgerTable, ValidatorSet, CoordinatorToken, ValidatorEndpoints, HostedValidators, WebhookSealingKeys |
 * | Webhooks   | CronV2 rate(1 minute)           | LedgerTable, ValidatorSet, WebhookSealingKeys |
 * | Publish    | CronV2 rate(1 hour)             | LedgerTable, ValidatorSet |
 * | Validator1..4 | function URL                 | its own <Id>SignerKey, <Id>CoordinatorKeyHash, <Id>State |
 *
 * The API function also ships the web front (web/dist, built by the deploy
 * itself: functions/aws/web-build.ts) as files in its package.
 *
 * The handlers (functions/aws/) read exactly these `Resource.X`; the offline
 * checks (test/deploy/sst-config.test.ts) evaluate this file with recording
 * stand-ins for SST's globals and hold the two together. The npm package
 * `sst` does not ship the platform types referenced above (`sst install`
 * generates them, and it cannot run offline), so this file is not type-checked
 * by `npm test` (tsconfig.json excludes it).
 */

/** The stage that keeps its data and refuses `sst remove` (docs/deploy.md "Teardown"). */
const PRODUCTION_STAGE = 'production';
/** Explicit: SST 4's default runtime is nodejs24.x. */
const RUNTIME = 'nodejs22.x';
/** No native code in the bundles, and arm64 Lambda costs 20 % less per GB-s. */
const ARCHITECTURE = 'arm64';

/** What a deployer edits before the first deploy (docs/deploy.md "Settings"). */
const SETTINGS = {
  /**
   * The checkpoint origin of each stage (C2SP tlog-checkpoint origin line):
   * it is in every checkpoint and proof, so it is fixed for the life of a
   * ledger. Never change it once a stage has a block.
   */
  origin: (stage: string): string => (stage === PRODUCTION_STAGE ? 'ledgerseal.example.gov' : `ledgerseal.example.gov/${stage}`),
  /** The API's custom domain per stage (docs/deploy.md "Custom domain"), or undefined for the API Gateway URL. */
  domain: (_stage: string): string | undefined => undefined,
};

/**
 * Validators this app runs itself (docs/deploy.md "Validators"), one entry
 * each: one function with its own function URL, its own secrets (signer key,
 * hash of the coordinator's token) and its own state table, linked to nothing
 * else; it catches up through the public API, never the ledger table. Their
 * URLs reach the coordinator through the HostedValidators link. Validators run
 * by other agencies are not listed here: their URLs go into the
 * ValidatorEndpoints secret (docs/validators.md).
 */
const VALIDATORS: readonly { id: string; name: string }[] = [
  { id: 'Validator1', name: 'validator-1' },
  { id: 'Validator2', name: 'validator-2' },
  { id: 'Validator3', name: 'validator-3' },
  { id: 'Validator4', name: 'validator-4' },
];

/** What EventBridge Scheduler passes to the scheduled functions (its context attributes; functions/aws/scheduled.ts ScheduleEvent). */
const SCHEDULE_EVENT = {
  scheduledTime: '<aws.scheduler.scheduled-time>',
  scheduleArn: '<aws.scheduler.schedule-arn>',
  executionId: '<aws.scheduler.execution-id>',
  attemptNumber: '<aws.scheduler.attempt-number>',
};

/**
 * One validator: its own signer key and coordinator-key-hash secrets, its own
 * state table (VALIDATOR_TABLE_SHAPE) and one function with a function URL,
 * linked to those three only. It reaches the ledger only through the public
 * API (ledgerUrl) and gets the validator set, a public document, in its
 * environment. Used for the validators this app hosts, and alone by
 * LEDGERSEAL_DEPLOY=validator (docs/validators.md "On AWS").
 */
async function validatorFunction(
  v: { id: string; name: string },
  o: { origin: string; production: boolean; ledgerUrl: unknown; validatorSet: unknown },
): Promise<{ name: string; url: unknown }> {
  const { VALIDATOR_TABLE_SHAPE } = await import('./functions/validator/table-shape.ts');
  const signerKey = new sst.Secret(`${v.id}SignerKey`);
  const coordinatorKeyHash = new sst.Secret(`${v.id}CoordinatorKeyHash`);
  const state = new sst.aws.Dynamo(`${v.id}State`, {
    ...VALIDATOR_TABLE_SHAPE,
    deletionProtection: o.production,
    transform: { table: { pointInTimeRecovery: { enabled: true } } },
  });
  const fn = new sst.aws.Function(v.id, {
    handler: 'functions/aws/validator.handler',
    runtime: RUNTIME,
    architecture: ARCHITECTURE,
    memory: '512 MB',
    timeout: '30 seconds',
    url: true,
    nodejs: { plugins: 'functions/aws/esbuild-plugins.mjs' },
    link: [signerKey, coordinatorKeyHash, state],
    environment: {
      LEDGERSEAL_ORIGIN: o.origin,
      LEDGERSEAL_VALIDATOR_ID: v.id,
      LEDGERSEAL_VALIDATOR_NAME: v.name,
      LEDGERSEAL_LEDGER_URL: o.ledgerUrl,
      LEDGERSEAL_VALIDATOR_SET: o.validatorSet,
    },
  });
  return { name: v.name, url: fn.url };
}

/**
 * LEDGERSEAL_DEPLOY=validator: this app is ONE validator run for someone
 * else's ledger (another agency co-signing): one function, one table, three
 * secrets, nothing of the ledger. Its name, the ledger's origin and public URL
 * come from the environment of `sst deploy` (docs/validators.md "On AWS").
 */
async function validatorOnly(production: boolean): Promise<Record<string, unknown>> {
  const need = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`LEDGERSEAL_DEPLOY=validator needs ${name} (docs/validators.md "On AWS")`);
    return value;
  };
  const name = need('LEDGERSEAL_VALIDATOR_NAME');
  const origin = need('LEDGERSEAL_ORIGIN');
  const ledgerUrl = need('LEDGERSEAL_LEDGER_URL');
  const validatorSet = new sst.Secret('ValidatorSet');
  const v = await validatorFunction({ id: 'Validator', name }, { origin, production, ledgerUrl, validatorSet: validatorSet.value });
  return { validator: name, url: v.url, origin, ledger: ledgerUrl };
}

export default $config({
  app(input) {
    const production = input?.stage === PRODUCTION_STAGE;
    return {
      // A lone validator is its own app: its resources never mix with a ledger's.
      name: process.env.LEDGERSEAL_DEPLOY === 'validator' ? 'ledgerseal-validator' : 'ledgerseal',
      home: 'aws',
      // Production keeps the table (and everything else) on `sst remove`, and refuses to be removed at all.
      removal: production ? 'retain' : 'remove',
      protect: production,
    };
  },
  async run() {
    const stage = $app.stage;
    const production = stage === PRODUCTION_STAGE;
    const mode = process.env.LEDGERSEAL_DEPLOY ?? 'ledger';
    if (mode === 'validator') return validatorOnly(production);
    if (mode !== 'ledger') throw new Error(`LEDGERSEAL_DEPLOY must be "ledger" (the default) or "validator", not "${mode}"`);
    const { TABLE_SHAPE } = await import('./functions/store/table-shape.ts');
    const { PACKAGED_WEB_DIST } = await import('./functions/aws/web-dist.ts');
    // The web front the API serves, built fresh by every command that packages functions
    // (deploy, diff, dev); a build that fails or leaves a page missing stops the command here.
    const { prepareWebDist } = await import('./functions/aws/web-build.ts');
    prepareWebDist({ root: $cli.paths.root, command: $cli.command });
    const origin = SETTINGS.origin(stage);
    const domain = SETTINGS.domain(stage);

    // The table, from the store's own shape (functions/store/table-shape.ts). Point-in-time
    // recovery on (SST's default too; set here so that a change of default cannot drop it).
    const table = new sst.aws.Dynamo('LedgerTable', {
      ...TABLE_SHAPE,
      deletionProtection: production,
      transform: { table: { pointInTimeRecovery: { enabled: true } } },
    });

    // Secrets (docs/deploy.md "Secrets"): `npx sst secret set <Name> <value> --stage <stage>`.
    const adminKeyHash = new sst.Secret('AdminKeyHash');
    const coordinatorToken = new sst.Secret('CoordinatorToken');
    const webhookSealingKeys = new sst.Secret('WebhookSealingKeys');
    const validatorSet = new sst.Secret('ValidatorSet');
    const validatorEndpoints = new sst.Secret('ValidatorEndpoints');

    const api = new sst.aws.ApiGatewayV2('Api', { ...(domain !== undefined ? { domain } : {}) });
    const publicUrl = domain !== undefined ? `https://${domain}` : api.url;

    // Validators hosted here (VALIDATORS, above): each links only its own secrets and table.
    const hosted: { name: string; url: unknown }[] = [];
    for (const v of VALIDATORS) hosted.push(await validatorFunction(v, { origin, production, ledgerUrl: publicUrl, validatorSet: validatorSet.value }));
    const hostedValidators = new sst.Linkable('HostedValidators', {
      properties: { endpoints: Object.fromEntries(hosted.map((v) => [v.name, v.url])) },
    });

    const environment = { LEDGERSEAL_ORIGIN: origin, LEDGERSEAL_PUBLIC_URL: publicUrl };
    // The esbuild plugin drops zod's unused message locales: 267 KB of each bundle (functions/aws/esbuild-plugins.mjs).
    const nodejs = { plugins: 'functions/aws/esbuild-plugins.mjs' };
    const common = { runtime: RUNTIME, architecture: ARCHITECTURE, environment, nodejs } as const;

    const apiHandler = new sst.aws.Function('ApiHandler', {
      ...common,
      handler: 'functions/aws/api.handler',
      memory: '1024 MB',
      timeout: '30 seconds', // API Gateway's integration limit
      link: [table, validatorSet, adminKeyHash, webhookSealingKeys],
      // The built web front as files next to the handler (functions/aws/web-dist.ts), not in the JS bundle.
      copyFiles: [{ from: 'web/dist', to: PACKAGED_WEB_DIST }],
    });
    api.route('$default', apiHandler.arn);

    new sst.aws.CronV2('Rounds', {
      schedule: 'rate(1 minute)',
      event: SCHEDULE_EVENT,
      function: {
        ...common,
        handler: 'functions/aws/rounds.handler',
        memory: '1024 MB',
        // Rounds start for 45 s at most; the last may wait 60 s for signatures (functions/aws/scheduled.ts).
        timeout: '2 minutes',
        link: [table, validatorSet, coordinatorToken, validatorEndpoints, hostedValidators, webhookSealingKeys],
      },
    });

    new sst.aws.CronV2('Webhooks', {
      schedule: 'rate(1 minute)',
      event: SCHEDULE_EVENT,
      function: {
        ...common,
        handler: 'functions/aws/webhooks.handler',
        memory: '512 MB',
        timeout: '90 seconds',
        link: [table, validatorSet, webhookSealingKeys],
      },
    });

    new sst.aws.CronV2('Publish', {
      schedule: 'rate(1 hour)',
      event: SCHEDULE_EVENT,
      function: {
        ...common,
        handler: 'functions/aws/publish.handler',
        memory: '256 MB',
        timeout: '1 minute',
        link: [table, validatorSet],
      },
    });

    return {
      api: api.url,
      publicUrl,
      origin,
      // The validators' URLs (their verifier keys: GET <url>/v1/validator, docs/validators.md).
      validators: Object.fromEntries(hosted.map((v) => [v.name, v.url])),
    };
  },
});
