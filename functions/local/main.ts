/**
 * `npm start`: start the local runner (runner.ts), print where to reach it,
 * stop cleanly on Ctrl-C / SIGTERM. A start that cannot happen (bad
 * configuration, the data directory in use, the port taken) prints one line
 * saying why and exits with status 1.
 */
import { startLocal } from './runner.ts';

async function main(): Promise<void> {
  const runner = await startLocal();
  const { config, validatorSet } = runner.ledger;
  const lines = [
    '',
    `  Ledgerseal is running at ${runner.url}`,
    `  origin:     ${runner.origin}`,
    `  data dir:   ${runner.dataDir}`,
    `  rounds:     every ${config.rounds.intervalMs} ms, validators: ${validatorSet.validators.map((v) => v.name).join(', ')}`,
    ...(runner.validatorMode === 'processes'
      ? [
          '  validators: separate processes (LEDGERSEAL_VALIDATORS=processes), restarted when they die:',
          ...runner.validatorProcesses.map((p) => `              ${p.name}  ${p.url ?? '(not running)'}  pid ${p.pid ?? '-'}  state ${runner.dataDir}/validators/${p.name}/`),
        ]
      : ['  validators: in this process (LEDGERSEAL_VALIDATORS=in-process; `processes` runs each as its own process)']),
    '  webhooks:   worker running; LOCAL MODE allows http:// and loopback (127.0.0.1, ::1, localhost) targets,',
    '              which a deployed service refuses; private and metadata addresses stay refused',
  ];
  if (runner.generatedAdminKey) {
    lines.push(`  admin key:  ${runner.generatedAdminKey}`, '              (shown once: only its hash is kept; set LEDGERSEAL_ADMIN_KEY to choose your own)');
  } else {
    lines.push('  admin key:  as set on first start (LEDGERSEAL_ADMIN_KEY overrides)');
  }
  process.stderr.write(`${lines.join('\n')}\n\n`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n  ${signal}: finishing the round in flight and stopping...\n`);
    runner.close().then(() => process.exit(0), (e) => {
      process.stderr.write(`  stop failed: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((e) => {
  process.stderr.write(`ledgerseal: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
