// A C interface to the legacy WebRTC echo canceller (AEC2) of Debian's
// libwebrtc-audio-processing 0.3, the one bookworm's PulseAudio and PipeWire
// echo-cancel modules run. The library is C++ only; Python reaches this shim
// through ctypes (appliance/listen/aec/webrtc_legacy.py). Only echo cancellation is
// enabled: no high-pass filter, noise suppression or gain control, so the
// kiosk's detector sees the same kind of signal as with speex.
//
// Built by `make peers` (g++, no -march=native) into the venv's lib directory.
#include <cstring>
#include <webrtc/modules/audio_processing/include/audio_processing.h>
#include <webrtc/modules/interface/module_common_types.h>

namespace {

struct Canceller {
  webrtc::AudioProcessing* apm;
  webrtc::AudioFrame frame;
};

bool fill(webrtc::AudioFrame& frame, const int16_t* samples, int count, int rate_hz) {
  if (count <= 0 || static_cast<size_t>(count) > webrtc::AudioFrame::kMaxDataSizeSamples) {
    return false;
  }
  frame.num_channels_ = 1;
  frame.sample_rate_hz_ = rate_hz;
  frame.samples_per_channel_ = static_cast<size_t>(count);
  std::memcpy(frame.data_, samples, sizeof(int16_t) * count);
  return true;
}

}  // namespace

extern "C" {

// A canceller for 10 ms mono int16 frames at `rate_hz`; NULL on failure.
// `suppression`: 0 low, 1 moderate, 2 high (the non-linear processor's strength).
void* webrtc_legacy_create(int rate_hz, int extended_filter, int delay_agnostic, int suppression) {
  webrtc::Config config;
  config.Set<webrtc::ExtendedFilter>(new webrtc::ExtendedFilter(extended_filter != 0));
  config.Set<webrtc::DelayAgnostic>(new webrtc::DelayAgnostic(delay_agnostic != 0));
  webrtc::AudioProcessing* apm = webrtc::AudioProcessing::Create(config);
  if (apm == nullptr) return nullptr;
  webrtc::EchoCancellation* echo = apm->echo_cancellation();
  if (echo->enable_drift_compensation(false) != 0 ||
      echo->set_suppression_level(
          static_cast<webrtc::EchoCancellation::SuppressionLevel>(suppression)) != 0 ||
      echo->Enable(true) != 0 || apm->high_pass_filter()->Enable(false) != 0 ||
      apm->noise_suppression()->Enable(false) != 0 || apm->gain_control()->Enable(false) != 0) {
    delete apm;
    return nullptr;
  }
  Canceller* canceller = new Canceller();
  canceller->apm = apm;
  return canceller;
}

// The far-end (reference) frame that is being played now; 0 on success.
int webrtc_legacy_render(void* handle, const int16_t* samples, int count, int rate_hz) {
  Canceller* canceller = static_cast<Canceller*>(handle);
  if (!fill(canceller->frame, samples, count, rate_hz)) return -1;
  return canceller->apm->ProcessReverseStream(&canceller->frame);
}

// The microphone frame, processed in place into `out`; 0 on success.
int webrtc_legacy_capture(void* handle, const int16_t* samples, int16_t* out, int count,
                          int rate_hz, int delay_ms) {
  Canceller* canceller = static_cast<Canceller*>(handle);
  if (!fill(canceller->frame, samples, count, rate_hz)) return -1;
  canceller->apm->set_stream_delay_ms(delay_ms);
  int status = canceller->apm->ProcessStream(&canceller->frame);
  std::memcpy(out, canceller->frame.data_, sizeof(int16_t) * count);
  return status;
}

void webrtc_legacy_destroy(void* handle) {
  Canceller* canceller = static_cast<Canceller*>(handle);
  if (canceller == nullptr) return;
  delete canceller->apm;
  delete canceller;
}

}  // extern "C"
