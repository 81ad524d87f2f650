import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';

describe('faces configuration', () => {
  it("defaults: detection on with YuNet (vit) and BlazeFace full range (compact), thresholds measured or the model's, tracker and fetch settings", () => {
    const { faces } = loadConfig({});
    expect(faces).toMatchObject({
      detect: true,
      detector: 'yunet-s-dynamic',
      compactDetector: 'blazeface-back',
      confirmDetector: 'auto',
      secondLook: 'auto',
      minFaceSize: 16,
      maxFacesPerFrame: 20,
      cropMargin: 0.15,
      reuseMaxFrames: 8,
      reuseThreshold: 0.01,
      trackIou: 0.3,
      trackMaxGap: 2,
      trackAppearanceDistance: 0.5,
      trackReidentifyFrames: 10,
      persons: true,
      personDistance: 0.42,
      cutThreshold: 0.4,
      fetchRetries: 3,
    });
    expect(faces.scoreThreshold).toBeUndefined();
    expect(faces.nmsIou).toBeUndefined();
    expect(faces.modelsBaseUrl).toBeUndefined();
  });

  it('reads every knob from the environment', () => {
    const { faces } = loadConfig({
      FER_DETECT: 'false',
      FER_DETECTOR: 'yunet-s-dynamic',
      FER_COMPACT_DETECTOR: 'faceapi-tiny-face-detector',
      FER_DETECTOR_SCORE_THRESHOLD: '0.8',
      FER_DETECTOR_NMS_IOU: '0.4',
      FER_MIN_FACE_SIZE: '24',
      FER_MAX_FACES_PER_FRAME: '5',
      FER_DETECTOR_INPUT_SIZE: '480x384',
      FER_FACE_CROP_MARGIN: '0.25',
      FER_REUSE_MAX_FRAMES: '0',
      FER_REUSE_THRESHOLD: '0.03',
      FER_TRACK_IOU: '0.5',
      FER_TRACK_MAX_GAP: '0',
      FER_DETECTOR_CONFIRM: 'none',
      FER_DETECTOR_SECOND_LOOK: 'blazeface-front',
      FER_SECOND_LOOK_THRESHOLD: '0.6',
      FER_SECOND_LOOK_TRUST_ABOVE: '0.9',
      FER_TRACK_APPEARANCE_DISTANCE: '0.3',
      FER_TRACK_REIDENTIFY_FRAMES: '4',
      FER_CUT_THRESHOLD: '0.6',
      FER_PERSONS: 'false',
      FER_PERSON_DISTANCE: '0.5',
      FER_MODELS_BASE_URL: 'http://mirror.local/models',
      FER_FETCH_RETRIES: '1',
      FER_FETCH_RETRY_BASE_MS: '10',
      FER_FETCH_IDLE_TIMEOUT_MS: '500',
    });
    expect(faces).toEqual({
      detect: false,
      detector: 'yunet-s-dynamic',
      compactDetector: 'faceapi-tiny-face-detector',
      scoreThreshold: 0.8,
      nmsIou: 0.4,
      minFaceSize: 24,
      maxFacesPerFrame: 5,
      detectorInputSize: '480x384',
      cropMargin: 0.25,
      reuseMaxFrames: 0,
      reuseThreshold: 0.03,
      trackIou: 0.5,
      trackMaxGap: 0,
      confirmDetector: 'none',
      secondLook: 'blazeface-front',
      secondLookThreshold: 0.6,
      secondLookTrustAbove: 0.9,
      trackAppearanceDistance: 0.3,
      trackReidentifyFrames: 4,
      cutThreshold: 0.6,
      persons: false,
      personDistance: 0.5,
      modelsBaseUrl: 'http://mirror.local/models',
      fetchRetries: 1,
      fetchRetryBaseMs: 10,
      fetchIdleTimeoutMs: 500,
    });
  });

  it('rejects invalid values naming the knob', () => {
    expect(() => loadConfig({ FER_DETECTOR_SCORE_THRESHOLD: '1.5' })).toThrow(/faces\.scoreThreshold/);
    expect(() => loadConfig({ FER_DETECTOR_INPUT_SIZE: '320' })).toThrow(
      /faces\.detectorInputSize: expected frame or WIDTHxHEIGHT/,
    );
    expect(() => loadConfig({ FER_MAX_FACES_PER_FRAME: '0' })).toThrow(/faces\.maxFacesPerFrame/);
    expect(() => loadConfig({ FER_MODELS_BASE_URL: 'not a url' })).toThrow(/faces\.modelsBaseUrl/);
  });
});
