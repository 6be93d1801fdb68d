// The closed vocabularies of card transactions. The generator draws from them and the schema
// accepts only them, so "accepted values" has one definition.

export const STATUSES = ['APPROVED', 'DECLINED', 'PENDING', 'REFUNDED'] as const;
/** Relative frequencies used by the generator, in STATUSES order. */
export const STATUS_WEIGHTS = [0.86, 0.08, 0.04, 0.02] as const;

export const CATEGORIES = [
  'grocery',
  'restaurants',
  'transport',
  'electronics',
  'fashion',
  'travel',
  'entertainment',
  'health',
  'utilities',
] as const;

export const MERCHANTS_BY_CATEGORY: Record<(typeof CATEGORIES)[number], readonly string[]> = {
  grocery: ['Carrefour', 'Monoprix', 'Auchan', 'Lidl'],
  restaurants: ['Deliveroo', 'Uber Eats', 'Paul', "McDonald's"],
  transport: ['Uber', 'SNCF', 'RATP', 'TotalEnergies'],
  electronics: ['Amazon', 'Fnac', 'Darty', 'Apple Store'],
  fashion: ['Zara', 'H&M', 'Decathlon', 'Galeries Lafayette'],
  travel: ['Air France', 'Booking.com', 'Airbnb', 'Accor'],
  entertainment: ['Netflix', 'Spotify', 'UGC', 'Steam'],
  health: ['Pharmacie Lafayette', 'Doctolib', 'Optic 2000'],
  utilities: ['EDF', 'Orange', 'Free', 'Veolia'],
};

export const CITIES = [
  'Paris',
  'Lyon',
  'Marseille',
  'Toulouse',
  'Nice',
  'Nantes',
  'Bordeaux',
  'Lille',
  'Strasbourg',
  'Montpellier',
] as const;

export const PAYMENT_METHODS = ['card', 'contactless', 'mobile_wallet', 'online'] as const;

export const CURRENCIES = ['EUR', 'USD', 'GBP', 'CHF'] as const;

export const AMOUNT_BUCKETS = ['<20', '20-100', '100-250', '250-500', '>=500'] as const;
export type AmountBucket = (typeof AMOUNT_BUCKETS)[number];

export const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
