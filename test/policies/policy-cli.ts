/** Runs `gatehouse <args>` of the policy commands in-process: captured output, and the exit code it set. */
import { Command } from 'commander';
import { registerPolicy } from '../../cli/commands/policy';

export async function runPolicyCli(...args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  let stdout = '';
  let stderr = '';
  const program = new Command().name('gatehouse').exitOverride();
  registerPolicy(program, { out: (t) => (stdout += `${t}\n`), err: (t) => (stderr += `${t}\n`) });
  const before = process.exitCode;
  process.exitCode = 0;
  try {
    await program.parseAsync(['node', 'gatehouse', ...args]);
    return { stdout, stderr, exitCode: Number(process.exitCode ?? 0) };
  } finally {
    process.exitCode = before;
  }
}
