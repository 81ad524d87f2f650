// fer-stream command line. Each subcommand lives in its own module under commands/ and is loaded
// only when used, so `fer-stream --help` does not load onnxruntime, ffmpeg or Redis clients.

// Command and EXIT_CODES live in command.ts, so command modules import them without an import
// cycle through this registry (which imports the commands).
import { FerError } from '../core/errors.ts';
import { EXIT_CODES, type Command } from './command.ts';
import { FERSTREAM_VERSION } from '../core/version.ts';
import { closest } from './suggest.ts';

export { EXIT_CODES, type Command };

/** Register a command here: name → summary for `--help`, and a loader of its module (default export). */
const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  // e.g. classify: { summary: 'Top expression labels of images', load: async () => (await
  // import('./commands/classify.ts')).default },
  classify: {
    summary: 'The faces in image files and the expression of each',
    load: async () => (await import('./commands/classify.ts')).default,
  },
  eval: {
    summary: 'Accuracy, per-class precision/recall/F1, confusion and calibration on labelled faces',
    load: async () => (await import('./commands/eval.ts')).default,
  },
  models: {
    summary: 'Build, convert and install model directories',
    load: async () => (await import('./commands/models.ts')).default,
  },
  demo: {
    summary: 'Analyse a demo video made from face-api sample photos, end to end (needs only Redis)',
    load: async () => (await import('./commands/demo.ts')).default,
  },
  analyze: {
    summary: 'Analyse videos on this machine (producer, worker and aggregation in one process)',
    load: async () => (await import('./commands/analyze.ts')).default,
  },
  worker: {
    summary: 'Run a frame worker (inference and aggregation) against REDIS_URL',
    load: async () => (await import('./commands/worker.ts')).default,
  },
  producer: {
    summary: 'Run a producer (videos → frame chunks in Redis) against REDIS_URL',
    load: async () => (await import('./commands/producer.ts')).default,
  },
  submit: {
    summary: 'Queue videos for processing; prints their ids',
    load: async () => (await import('./commands/submit.ts')).default,
  },
  status: {
    summary: 'State and progress of a submitted video',
    load: async () => (await import('./commands/status.ts')).default,
  },
  results: {
    summary: 'Results of a completed video (JSON, CSV, chart or annotated video)',
    load: async () => (await import('./commands/results.ts')).default,
  },
  list: { summary: 'Submitted videos, newest first', load: async () => (await import('./commands/list.ts')).default },
  cancel: {
    summary: 'Cancel open videos (kept as cancelled), or delete videos with --delete',
    load: async () => (await import('./commands/cancel.ts')).default,
  },
  serve: {
    summary: 'API, producer and worker in one process: submit videos over HTTP on one machine',
    load: async () => (await import('./commands/serve.ts')).default,
  },
  api: {
    summary: 'Run the HTTP API (submit videos, status, results)',
    load: async () => (await import('./commands/api.ts')).default,
  },
  config: {
    summary: 'The effective settings and where each came from, secrets masked',
    load: async () => (await import('./commands/config.ts')).default,
  },
};

function help(): string {
  return [
    'fer-stream: facial expressions in videos, at scale',
    '',
    'Usage: fer-stream <command> [options]   (fer-stream help <command>, or <command> --help, for details)',
    '',
    'Commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`),
    '',
    'fer-stream --version prints the version.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...afterFirst] = argv;
  if (first === '--version' || first === '-V' || first === 'version') {
    console.log(`fer-stream ${FERSTREAM_VERSION} (Node.js ${process.versions.node})`);
    return EXIT_CODES.ok;
  }
  // `help CMD` is `CMD --help`.
  const [name, ...rest] = first === 'help' && afterFirst.length > 0 ? [afterFirst[0]!, '--help'] : argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name === undefined ? EXIT_CODES.usage : EXIT_CODES.ok;
  }
  const entry = commands[name];
  if (entry === undefined) {
    const suggestion = closest(name, Object.keys(commands));
    console.error(
      suggestion
        ? `fer-stream: unknown command "${name}" (did you mean "${suggestion}"?); "fer-stream --help" lists them`
        : `fer-stream: unknown command "${name}"\n\n${help()}`,
    );
    return EXIT_CODES.usage;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`${command.summary}\n\n${command.usage}`);
    return EXIT_CODES.ok;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    console.error(`fer-stream ${name}: ${(error as Error).message}`);
    // Ours carry the catalogue's exit code (src/core/errors.ts); anything else is a failure.
    return error instanceof FerError ? error.exitCode : EXIT_CODES.failure;
  }
}
