// Tells a real picture from a blank or flat one, from the PNG bytes a browser screenshot gives.
import { PNG } from 'pngjs';

export interface PixelStats {
  width: number;
  height: number;
  distinctColours: number;
  /** Standard deviation of luminance (0-255): about 0 for a blank area. */
  luminanceSpread: number;
}

export function pixelStats(png: Buffer): PixelStats {
  const image = PNG.sync.read(png);
  const colours = new Set<number>();
  let sum = 0;
  let sumOfSquares = 0;
  const pixels = image.width * image.height;
  for (let i = 0; i < image.data.length; i += 4) {
    const [r, g, b] = [image.data[i], image.data[i + 1], image.data[i + 2]];
    colours.add((r << 16) | (g << 8) | b);
    const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    sum += luminance;
    sumOfSquares += luminance * luminance;
  }
  const mean = sum / pixels;
  const luminanceSpread = Math.sqrt(Math.max(0, sumOfSquares / pixels - mean * mean));
  return { width: image.width, height: image.height, distinctColours: colours.size, luminanceSpread };
}
