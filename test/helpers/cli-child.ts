import { main } from '../../sdk/src/cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
