/**
 * Placeholder entry of the `ledgerseal` command, only so that the package's
 * "./cli" export and bin resolve; the real CLI replaces this file.
 */
const USAGE = 'usage: ledgerseal <command> [options]\n\n  --help   show this help\n';

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  console.error(USAGE);
  return 2;
}
