/** @ledgerseal/sdk/cli — the programmatic API of the `ledgerseal` command. */
export { main } from './main.ts';
