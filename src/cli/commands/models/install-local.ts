// `fer-stream models install-local DIR [family …]`: installs the detector models from a
// local copy laid out as the publishers name them (DIR/ultraface/version-RFB-320.onnx, …), e.g.
// ../shared/models in CI; files are checked against the known sizes and sha256 like downloads.

import path from 'node:path';
import { loadConfig } from '../../../config/index.ts';
import { detectorFamilyNames, installLocal, parseFamily } from '../../../models/fetch/fetch.ts';
import { parseCommandArgs, UsageError } from '../../args.ts';
import { EXIT_CODES, type Command } from '../../command.ts';

const installLocalCommand: Pick<Command, 'run'> = {
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, { 'models-dir': { type: 'string' } });
    const [source, ...names] = positionals;
    if (source === undefined) throw new UsageError('give the directory to install from, e.g. ../shared/models');
    const families = names.length > 0 ? names.map(parseFamily) : detectorFamilyNames();
    const modelsDir = values['models-dir'] ? path.resolve(values['models-dir']) : loadConfig().modelsDir;
    const installed = await installLocal(path.resolve(source), modelsDir, families);
    for (const model of installed) console.log(`installed ${model.name} in ${model.dir}`);
    return EXIT_CODES.ok;
  },
};

export default installLocalCommand;
