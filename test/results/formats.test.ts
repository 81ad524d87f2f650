import { expect, it } from 'vitest';
import { openApiDocument } from '../../src/api/openapi.ts';
import results from '../../src/cli/commands/results.ts';
import { buildVideoResult } from '../../src/results/aggregate.ts';
import { RESULT_FORMAT_NAMES, RESULT_FORMATS } from '../../src/results/formats.ts';
import { face, frames, MODEL } from './fixtures.ts';

// One table of result formats: every entry renders, names and file names are distinct, and the
// API's OpenAPI enum and the CLI's help are made from it (a new entry shows up in both).

const result = buildVideoResult({
  videoId: 'vid-1',
  frames: frames(['happy', [face('sad', { trackId: 1 })], 'surprise'], 5),
  video: {},
  model: MODEL,
});

it('every format renders a result, in a body of its content type', async () => {
  for (const format of RESULT_FORMATS) {
    const body = await format.render(result, { pretty: true });
    expect(body.length, format.name).toBeGreaterThan(20);
    if (format.contentType.startsWith('image/png')) expect((body as Buffer).subarray(1, 4).toString()).toBe('PNG');
    if (format.contentType.startsWith('application/json')) expect(JSON.parse(String(body)).videoId).toBe('vid-1');
    if (format.contentType.startsWith('text/csv'))
      expect(String(body).split('\r\n')[0]).toMatch(/^[a-z_]+(,[a-z_]+)+$/);
  }
  // Compact JSON for the API, the same document.
  expect(JSON.parse(String(await RESULT_FORMATS[0].render(result)))).toEqual(
    JSON.parse(String(await RESULT_FORMATS[0].render(result, { pretty: true }))),
  );
});

it('names and file suffixes are distinct; OpenAPI and the CLI offer exactly these (the CLI adds mp4)', () => {
  expect(new Set(RESULT_FORMAT_NAMES).size).toBe(RESULT_FORMATS.length);
  expect(new Set(RESULT_FORMATS.map((f) => f.fileSuffix)).size).toBe(RESULT_FORMATS.length);
  const parameter = openApiDocument.paths['/v1/videos/{id}/results'].get.parameters.find(
    (p) => 'name' in p && p.name === 'format',
  ) as unknown as { schema: { enum: string[] }; description: string };
  expect(parameter.schema.enum).toEqual([...RESULT_FORMAT_NAMES]);
  for (const format of RESULT_FORMATS) {
    expect(parameter.description).toContain(`${format.name}`);
    expect(results.usage).toContain(
      `${format.name}${format.name === 'json' ? ' (default)' : ''}: ${format.description}`,
    );
  }
  expect(results.usage).toMatch(/mp4: the source video/);
});
