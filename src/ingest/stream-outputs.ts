/** The camera a stream supervisor pulls, as its output consumers see it. */
export interface SupervisedCamera {
  id: string;
  siteId: string;
  unitId: string;
  name: string;
}

/**
 * A consumer of a camera's single pull (recording, live view). The stream supervisor runs ONE ffmpeg
 * per camera with `-c copy` and appends each provider's output arguments after the input, so cameras
 * see one RTSP session however many consumers there are.
 */
export interface StreamOutputProvider {
  readonly name: string;
  /** ffmpeg output options and target for this camera (e.g. ['-map','0:v','-c','copy','-f','segment',...]); [] for none now. */
  outputArgs(camera: SupervisedCamera): string[];
  /** The pull (re)started: ffmpeg was spawned with this provider's args. */
  onStart?(camera: SupervisedCamera, at: Date): void;
  /** The pull ended (stall, camera lost, stop); reason is the supervisor's explanation. */
  onExit?(camera: SupervisedCamera, at: Date, reason: string): void;
}

/** The providers registered in this process; every stream supervisor asks them at each (re)start. */
export class StreamOutputs {
  private readonly providers: StreamOutputProvider[] = [];

  register(provider: StreamOutputProvider): void {
    if (this.providers.some((p) => p.name === provider.name))
      throw new Error(`stream output provider ${provider.name} is already registered`);
    this.providers.push(provider);
  }

  list(): readonly StreamOutputProvider[] {
    return this.providers;
  }
}
