import type { AnyMessageContent } from 'baileys';
import type { LocationContent } from '../../core/message-content.js';

export function locationContent(location: LocationContent): AnyMessageContent {
  return { location: { degreesLatitude: location.latitude, degreesLongitude: location.longitude, name: location.name, address: location.address } };
}
