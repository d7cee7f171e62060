import { Command, Option } from 'commander';
import { OperatorService } from '../auth/operators.js';
import { newPassword } from '../auth/passwords.js';
import { openCliContext, printJson } from './context.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Council operators: admins and analysts who sign in to the dashboard and admin API. */
export function operatorCommand(): Command {
  return new Command('operator')
    .description('council operators (admins, analysts)')
    .addCommand(
      new Command('add')
        .description('create an operator; prints a generated password unless --password-stdin')
        .requiredOption('--name <name>')
        .addOption(new Option('--role <role>').choices(['admin', 'analyst']).makeOptionMandatory())
        .option('--password-stdin', 'read the password from standard input', false)
        .action(
          async (
            o: { name: string; role: 'admin' | 'analyst'; passwordStdin: boolean },
            cmd: Command,
          ) => {
            const password = o.passwordStdin ? await readStdin() : newPassword();
            const ctx = openCliContext(cmd);
            try {
              const id = await new OperatorService(ctx.store.db).add({
                name: o.name,
                role: o.role,
                password,
              });
              printJson({
                operatorId: id,
                name: o.name,
                role: o.role,
                ...(o.passwordStdin ? {} : { password }),
              });
            } finally {
              ctx.close();
            }
          },
        ),
    )
    .addCommand(
      new Command('token')
        .description('issue an API token for an operator (shown once)')
        .requiredOption('--name <name>')
        .action((o: { name: string }, cmd: Command) => {
          const ctx = openCliContext(cmd);
          try {
            printJson({ name: o.name, token: new OperatorService(ctx.store.db).apiToken(o.name) });
          } finally {
            ctx.close();
          }
        }),
    );
}
