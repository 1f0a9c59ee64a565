/**
 * The resources sst.config.ts links, as `Resource` from `sst` sees them at run
 * time (what `sst install` would generate into sst-env.d.ts; written here
 * because it cannot run offline, and checked against the config by
 * test/deploy/sst-config.test.ts).
 */
import 'sst';

declare module 'sst' {
  export interface Resource {
    LedgerTable: { name: string; type: 'sst.aws.Dynamo' };
    AdminKeyHash: { value: string; type: 'sst.sst.Secret' };
    CoordinatorToken: { value: string; type: 'sst.sst.Secret' };
    WebhookSealingKeys: { value: string; type: 'sst.sst.Secret' };
    ValidatorSet: { value: string; type: 'sst.sst.Secret' };
    ValidatorEndpoints: { value: string; type: 'sst.sst.Secret' };
    HostedValidators: { endpoints: Record<string, string>; type: 'sst.sst.Linkable' };
    Validator1SignerKey: { value: string; type: 'sst.sst.Secret' };
    Validator1CoordinatorKeyHash: { value: string; type: 'sst.sst.Secret' };
    Validator1State: { name: string; type: 'sst.aws.Dynamo' };
    Validator2SignerKey: { value: string; type: 'sst.sst.Secret' };
    Validator2CoordinatorKeyHash: { value: string; type: 'sst.sst.Secret' };
    Validator2State: { name: string; type: 'sst.aws.Dynamo' };
    Validator3SignerKey: { value: string; type: 'sst.sst.Secret' };
    Validator3CoordinatorKeyHash: { value: string; type: 'sst.sst.Secret' };
    Validator3State: { name: string; type: 'sst.aws.Dynamo' };
    Validator4SignerKey: { value: string; type: 'sst.sst.Secret' };
    Validator4CoordinatorKeyHash: { value: string; type: 'sst.sst.Secret' };
    Validator4State: { name: string; type: 'sst.aws.Dynamo' };
  }
}

export {};
