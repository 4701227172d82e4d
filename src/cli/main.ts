#!/usr/bin/env node
/** The s3gate command line: server, admin, alias, bench. Argument parsing only. */
import { Command } from 'commander';
import { serverCommand } from './server-command.js';
import { benchCommand } from '../bench/command.js';

const program = new Command('s3gate').description('S3 gateway for a directory tree').version('0.1.0');
program.addCommand(serverCommand());
program.addCommand(benchCommand());
await program.parseAsync(process.argv);
