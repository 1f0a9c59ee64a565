/// <reference path="./.sst/platform/config.d.ts" />
/**
 * SST v3+ deployment. Minimal until the deployment issue: the app is declared so
 * `sst install` can generate its platform types; resources arrive with the service.
 */
export default $config({
  app(input) {
    return {
      name: 'ledgerseal',
      removal: input?.stage === 'production' ? 'retain' : 'remove',
      home: 'aws',
    };
  },
  async run() {
    return {};
  },
});
