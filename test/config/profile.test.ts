import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';

describe('models configuration section (profiles)', () => {
  it('defaults to auto and vit-fer; FER_PROFILE / FER_VIT_MODEL set them; overrides win', () => {
    expect(loadConfig({}).models).toEqual({
      profile: 'auto',
      vitModel: 'vit-fer',
      compactExpression: 'faceapi+mini-xception+flip',
    });
    expect(loadConfig({ FER_PROFILE: 'compact', FER_VIT_MODEL: 'my-vit' }).models).toEqual({
      profile: 'compact',
      vitModel: 'my-vit',
      compactExpression: 'faceapi+mini-xception+flip',
    });
    expect(loadConfig({ FER_PROFILE: 'compact' }, { models: { profile: 'vit' } }).models.profile).toBe('vit');
  });

  it('names the knob when a profile is unknown', () => {
    expect(() => loadConfig({ FER_PROFILE: 'fast' })).toThrow(/models\.profile/);
  });
});
