#!/usr/bin/env node
/** The s3gate command line: server, alias, admin, bench. Argument parsing only. */
import { Command } from 'commander';
import { serverCommand } from './server-command.js';
import { benchCommand } from '../bench/command.js';
import { runAdminCli, runAliasCli } from './admin/index.js';
import { VERSION } from '../server/deployment.js';

const [command, ...rest] = process.argv.slice(2);
if (command === 'admin') process.exitCode = await runAdminCli(rest);
else if (command === 'alias') process.exitCode = await runAliasCli(rest);
else {
  const program = new Command('s3gate').description('S3 gateway for a directory tree').version(VERSION).enablePositionalOptions();
  program.addCommand(serverCommand());
  program.addCommand(benchCommand());
  program.command('admin').description('administer a server (mc admin compatible): s3gate admin --help');
  program.command('alias').description('manage server aliases: s3gate alias set NAME URL ACCESS SECRET');
  await program.parseAsync(process.argv);
}
