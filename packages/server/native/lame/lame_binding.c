// LAME as a Node-API addon: the system's libmp3lame (3.100), run in the calling thread.
// The service encodes on its render threads, so the call is synchronous on purpose: no libuv
// work queue, and it is safe in worker threads (the module is context-aware: NAPI_MODULE_INIT).
// Configured exactly as the WebAssembly build reprise falls back to (CBR, no Xing tag, no ID3,
// LAME's default quality), so either encoder yields the same kind of stream.
#include <lame/lame.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>

#define CALL(env, call)                                                                                                \
  do {                                                                                                                 \
    if ((call) != napi_ok) {                                                                                           \
      napi_throw_error((env), NULL, "native LAME: Node-API call failed: " #call);                                     \
      return NULL;                                                                                                     \
    }                                                                                                                  \
  } while (0)

/** One encoder: LAME's state and a scratch buffer the clamped input is copied into. */
typedef struct {
  lame_global_flags *lame;
  int channels;
  float *scratch;
  size_t scratch_frames;
} Encoder;

static void encoder_free(Encoder *encoder) {
  if (encoder->lame) lame_close(encoder->lame);
  encoder->lame = NULL;
  free(encoder->scratch);
  encoder->scratch = NULL;
  encoder->scratch_frames = 0;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  encoder_free((Encoder *)data);
  free(data);
}

static Encoder *unwrap(napi_env env, napi_value value) {
  Encoder *encoder = NULL;
  if (napi_get_value_external(env, value, (void **)&encoder) != napi_ok || !encoder || !encoder->lame) {
    napi_throw_error(env, NULL, "native LAME: not an open encoder");
    return NULL;
  }
  return encoder;
}

/** LAME counts buffer sizes in int. */
static int int_size(size_t length) { return (int)(length > 0x7fffffff ? 0x7fffffff : length); }

/** What encode and flush return: the bytes LAME wrote, or an error when it says it failed. */
static napi_value bytes_written(napi_env env, int written, const char *failure) {
  if (written < 0) {
    napi_throw_error(env, NULL, failure);
    return NULL;
  }
  napi_value result;
  CALL(env, napi_create_int32(env, written, &result));
  return result;
}

/** create(sampleRate, channels, kbps) → encoder */
static napi_value create(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t rate = 0, channels = 0, kbps = 0;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3 || napi_get_value_int32(env, argv[0], &rate) != napi_ok || napi_get_value_int32(env, argv[1], &channels) != napi_ok ||
      napi_get_value_int32(env, argv[2], &kbps) != napi_ok || (channels != 1 && channels != 2)) {
    napi_throw_type_error(env, NULL, "native LAME: create(sampleRate, channels 1 or 2, kbps)");
    return NULL;
  }
  Encoder *encoder = calloc(1, sizeof(Encoder));
  if (!encoder) {
    napi_throw_error(env, NULL, "native LAME: out of memory");
    return NULL;
  }
  encoder->channels = channels;
  encoder->lame = lame_init();
  if (encoder->lame) {
    id3tag_init(encoder->lame);
    lame_set_num_channels(encoder->lame, channels);
    lame_set_in_samplerate(encoder->lame, rate);
    lame_set_out_samplerate(encoder->lame, 0);
    lame_set_bWriteVbrTag(encoder->lame, 0);
    lame_set_VBR(encoder->lame, vbr_off);
    lame_set_brate(encoder->lame, kbps);
    lame_set_write_id3tag_automatic(encoder->lame, 0);
  }
  if (!encoder->lame || lame_init_params(encoder->lame) < 0) {
    encoder_free(encoder);
    free(encoder);
    napi_throw_error(env, NULL, "native LAME: these settings were refused (sample rate, channels or bitrate)");
    return NULL;
  }
  napi_value result;
  if (napi_create_external(env, encoder, finalize, NULL, &result) != napi_ok) {
    encoder_free(encoder);
    free(encoder);
    napi_throw_error(env, NULL, "native LAME: cannot wrap the encoder");
    return NULL;
  }
  return result;
}

static float *typed_floats(napi_env env, napi_value value, size_t *length) {
  napi_typedarray_type type;
  void *data = NULL;
  if (napi_get_typedarray_info(env, value, &type, length, &data, NULL, NULL) != napi_ok || type != napi_float32_array) return NULL;
  return (float *)data;
}

static unsigned char *typed_bytes(napi_env env, napi_value value, size_t *length) {
  napi_typedarray_type type;
  void *data = NULL;
  if (napi_get_typedarray_info(env, value, &type, length, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) return NULL;
  return (unsigned char *)data;
}

/**
 * encode(encoder, out: Uint8Array, left: Float32Array, right?: Float32Array) → bytes written to `out`.
 * The samples are clamped to [-1, 1] on the way in (everything upstream is unclipped float).
 */
static napi_value encode(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) {
    napi_throw_type_error(env, NULL, "native LAME: encode(encoder, out, left, right?)");
    return NULL;
  }
  Encoder *encoder = unwrap(env, argv[0]);
  if (!encoder) return NULL;
  size_t out_length = 0, frames = 0, right_frames = 0;
  unsigned char *out = typed_bytes(env, argv[1], &out_length);
  const float *input[2] = {typed_floats(env, argv[2], &frames), NULL};
  if (encoder->channels == 2 && argc >= 4) input[1] = typed_floats(env, argv[3], &right_frames);
  if (!out || !input[0] || (encoder->channels == 2 && (!input[1] || right_frames != frames))) {
    napi_throw_type_error(env, NULL, "native LAME: encode needs a Uint8Array and one Float32Array per channel, of one length");
    return NULL;
  }
  // LAME's own bound on what a call can produce.
  if ((double)out_length < 1.25 * (double)frames + 7200) {
    napi_throw_range_error(env, NULL, "native LAME: the output buffer is too small for this many frames");
    return NULL;
  }
  if (encoder->scratch_frames < frames) {
    float *grown = realloc(encoder->scratch, frames * 2 * sizeof(float));
    if (!grown) {
      napi_throw_error(env, NULL, "native LAME: out of memory");
      return NULL;
    }
    encoder->scratch = grown;
    encoder->scratch_frames = frames;
  }
  float *clamped[2] = {encoder->scratch, encoder->scratch + encoder->scratch_frames};
  for (int c = 0; c < encoder->channels; c++) {
    const float *from = input[c];
    float *to = clamped[c];
    for (size_t i = 0; i < frames; i++) {
      float v = from[i];
      to[i] = v > 1.0f ? 1.0f : v < -1.0f ? -1.0f : v;
    }
  }
  int written = lame_encode_buffer_ieee_float(encoder->lame, clamped[0], encoder->channels == 2 ? clamped[1] : clamped[0], (int)frames, out,
                                              int_size(out_length));
  return bytes_written(env, written, "native LAME: encoding failed");
}

/** flush(encoder, out: Uint8Array) → bytes written; the encoder is closed afterwards. */
static napi_value flush(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Encoder *encoder = argc >= 2 ? unwrap(env, argv[0]) : NULL;
  if (!encoder) return NULL;
  size_t out_length = 0;
  unsigned char *out = typed_bytes(env, argv[1], &out_length);
  if (!out || out_length < 7200) {
    napi_throw_type_error(env, NULL, "native LAME: flush needs a Uint8Array of at least 7200 bytes");
    return NULL;
  }
  int written = lame_encode_flush(encoder->lame, out, int_size(out_length));
  encoder_free(encoder);
  return bytes_written(env, written, "native LAME: flushing failed");
}

/** version() → LAME's version string. */
static napi_value version(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  CALL(env, napi_create_string_utf8(env, get_lame_version(), NAPI_AUTO_LENGTH, &result));
  return result;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor methods[] = {
      {"create", NULL, create, NULL, NULL, NULL, napi_enumerable, NULL},
      {"encode", NULL, encode, NULL, NULL, NULL, napi_enumerable, NULL},
      {"flush", NULL, flush, NULL, NULL, NULL, napi_enumerable, NULL},
      {"version", NULL, version, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof(methods) / sizeof(methods[0]), methods) != napi_ok) return NULL;
  return exports;
}
