/**
 * One validator on Lambda (sst.config.ts `Validator<N>`, a function URL): its
 * HTTP app (functions/validator/service.ts) over its own state table, its
 * signer key and the hash of the coordinator's token, all linked to it and to
 * nothing else. It never reads the ledger table: it catches up through the
 * public API (LEDGERSEAL_LEDGER_URL). Every validator function runs this same
 * file; LEDGERSEAL_VALIDATOR_ID (set by sst.config.ts) names its resources:
 * Resource[`${id}SignerKey`], Resource[`${id}CoordinatorKeyHash`], Resource[`${id}State`].
 */
import { handle } from 'hono/aws-lambda';
import { Resource } from 'sst';
import { type Env, loadValidatorConfig } from '../config.ts';
import { jsonLogger } from '../services.ts';
import { createAwsDynamoClient } from '../store/dynamo-client.ts';
import { DynamoStateStore } from '../validator/dynamo-state-store.ts';
import { createValidatorService, readValidatorSet } from '../validator/service.ts';
import { once } from './resources.ts';

type Linked = Record<string, { value?: string; name?: string } | undefined>;

function linked(id: string, what: 'SignerKey' | 'CoordinatorKeyHash' | 'State', field: 'value' | 'name'): string {
  const v = (Resource as unknown as Linked)[`${id}${what}`]?.[field];
  if (typeof v !== 'string' || v === '') throw new Error(`validator ${id}: ${id}${what} is not linked to this function`);
  return v;
}

/** A validator's Lambda handler from an environment (tests build several in one process). */
export function validatorHandler(env: Env): ReturnType<typeof handle> {
  const http = once(() => {
    const id = env['LEDGERSEAL_VALIDATOR_ID'];
    if (id === undefined || !/^[A-Za-z][A-Za-z0-9]{0,63}$/.test(id)) throw new Error('LEDGERSEAL_VALIDATOR_ID must name the validator resources (sst.config.ts)');
    const config = loadValidatorConfig({ ...env, LEDGERSEAL_COORDINATOR_KEY_HASH: linked(id, 'CoordinatorKeyHash', 'value') });
    if (config.validatorSet === null) throw new Error('LEDGERSEAL_VALIDATOR_SET is not set');
    const { app } = createValidatorService(config, {
      signerKey: linked(id, 'SignerKey', 'value'),
      validatorSet: readValidatorSet(config.validatorSet),
      state: new DynamoStateStore(createAwsDynamoClient(), linked(id, 'State', 'name'), config.name, config.origin),
      log: jsonLogger(),
    });
    return handle(app);
  });
  return (event, context) => http()(event, context);
}

export const handler = validatorHandler(process.env);
