import NNSchema

/// Builds the protobuf-c message of a model and packs it, then appends the CRC-32C trailer.
enum ModelEncoder {
    static func encode(_ model: Model, options: Model.SaveOptions) -> [UInt8] {
        let s = model.storage
        let arena = CArena()
        let m: UnsafeMutablePointer<Nncore__Model> = arena.message(nncore__model__init)
        m.pointee.signature = arena.string(ModelFormat.signature)
        m.pointee.format_version = UInt32(ModelFormat.version)
        m.pointee.min_reader_version = 1
        m.pointee.input_width = UInt32(s.inputWidth)
        m.pointee.loss = cEnum(s.loss.fileCode)
        m.pointee.seed = s.seed
        let initializer: UnsafeMutablePointer<Nncore__Initializer> = arena.message(nncore__initializer__init)
        initializer.pointee.kind = cEnum(s.initializer.fileCode.kind)
        initializer.pointee.scale = s.initializer.fileCode.scale
        m.pointee.initializer = initializer

        // Architecture.
        let layers = arena.array(UnsafeMutablePointer<Nncore__Layer>?.self, count: s.layers.count)
        for (i, layer) in s.layers.enumerated() {
            let l: UnsafeMutablePointer<Nncore__Layer> = arena.message(nncore__layer__init)
            switch layer {
            case .dense(let units, let activation):
                l.pointee.kind = cEnum(1)
                l.pointee.units = UInt32(units)
                l.pointee.activation = cEnum(activation.fileCode)
                l.pointee.alpha = activation.fileAlpha
            case .maxout(let units, let pieces):
                l.pointee.kind = cEnum(2)
                l.pointee.units = UInt32(units)
                l.pointee.pieces = UInt32(pieces)
            case .dropout(let rate):
                l.pointee.kind = cEnum(3)
                l.pointee.rate = rate
            }
            layers[i] = l
        }
        m.pointee.n_layers = s.layers.count
        m.pointee.layers = layers

        // Parameters.
        let tensors = arena.array(UnsafeMutablePointer<Nncore__Tensor>?.self, count: s.layout.count)
        for (i, t) in s.layout.enumerated() {
            let tensor: UnsafeMutablePointer<Nncore__Tensor> = arena.message(nncore__tensor__init)
            tensor.pointee.layer = UInt32(t.layer)
            tensor.pointee.kind = cEnum(t.kind == .weight ? 1 : 2)
            tensor.pointee.rows = UInt32(t.rows)
            tensor.pointee.cols = UInt32(t.cols)
            tensor.pointee.data = arena.bytes(UnsafeBufferPointer(rebasing: s.parameters[t.offset ..< t.offset + t.count]))
            tensors[i] = tensor
        }
        m.pointee.n_parameters = s.layout.count
        m.pointee.parameters = tensors

        if let standardization = s.standardization {
            let st: UnsafeMutablePointer<Nncore__Standardization> = arena.message(nncore__standardization__init)
            st.pointee.n_mean = standardization.mean.count
            st.pointee.mean = arena.copy(standardization.mean)
            st.pointee.n_scale = standardization.scale.count
            st.pointee.scale = arena.copy(standardization.scale)
            m.pointee.standardization = st
        }
        m.pointee.n_feature_names = s.featureNames.count
        m.pointee.feature_names = arena.copy(s.featureNames.map { Optional(arena.string($0)) })
        m.pointee.n_class_labels = s.classLabels.count
        m.pointee.class_labels = arena.copy(s.classLabels.map { Optional(arena.string($0)) })

        if let config = s.trainingOptions {
            m.pointee.training_config = encode(config, arena)
        }
        if options.includeTrainingState {
            let state: UnsafeMutablePointer<Nncore__TrainingState> = arena.message(nncore__training_state__init)
            if let optimizer = s.training.optimizer { state.pointee.optimizer = encode(optimizer, arena) }
            state.pointee.step = UInt64(s.training.step)
            state.pointee.epoch = UInt64(s.training.epoch)
            state.pointee.first_moment = s.training.firstMoment.withUnsafeBufferPointer { arena.bytes($0) }
            state.pointee.second_moment = s.training.secondMoment.withUnsafeBufferPointer { arena.bytes($0) }
            let random = s.random.state
            state.pointee.n_random_state = 4
            state.pointee.random_state = arena.copy([random.0, random.1, random.2, random.3])
            m.pointee.training_state = state
        }

        let history = arena.array(UnsafeMutablePointer<Nncore__EpochRecord>?.self, count: s.history.count)
        for (i, stats) in s.history.enumerated() {
            let r: UnsafeMutablePointer<Nncore__EpochRecord> = arena.message(nncore__epoch_record__init)
            r.pointee.epoch = UInt32(clamping: stats.epoch)
            r.pointee.data_loss = stats.dataLoss
            r.pointee.regularization_loss = stats.regularizationLoss
            r.pointee.has_accuracy = stats.accuracy != nil ? 1 : 0
            r.pointee.accuracy = stats.accuracy ?? 0
            r.pointee.has_validation = stats.validationLoss != nil ? 1 : 0
            r.pointee.validation_loss = stats.validationLoss ?? 0
            r.pointee.validation_accuracy = stats.validationAccuracy ?? 0
            r.pointee.learning_rate = stats.learningRate
            r.pointee.seconds = stats.seconds
            history[i] = r
        }
        m.pointee.n_history = s.history.count
        m.pointee.history = history

        let provenance: UnsafeMutablePointer<Nncore__Provenance> = arena.message(nncore__provenance__init)
        provenance.pointee.library = arena.string("nncore")
        provenance.pointee.library_version = arena.string(NNCoreVersion.string)
        provenance.pointee.created_unix_seconds = options.creationTime ?? FileIO.now()
        m.pointee.provenance = provenance

        let keys = s.metadata.keys.sorted()
        let entries = arena.array(UnsafeMutablePointer<Nncore__MetadataEntry>?.self, count: keys.count)
        for (i, key) in keys.enumerated() {
            let e: UnsafeMutablePointer<Nncore__MetadataEntry> = arena.message(nncore__metadata_entry__init)
            e.pointee.key = arena.string(key)
            e.pointee.value = arena.string(s.metadata[key]!)
            entries[i] = e
        }
        m.pointee.n_metadata = keys.count
        m.pointee.metadata = entries

        // Pack, then append field 15 (fixed32 CRC-32C of everything before it) by hand.
        let size = nncore__model__get_packed_size(m)
        var bytes = [UInt8](repeating: 0, count: size + 5)
        bytes.withUnsafeMutableBufferPointer { buffer in
            _ = nncore__model__pack(m, buffer.baseAddress)
            let crc = CRC32C.checksum(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buffer[0 ..< size])))
            buffer[size] = ModelFormat.checksumTag
            for k in 0 ..< 4 { buffer[size + 1 + k] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(k))) }
        }
        return bytes
    }

    private static func encode(_ optimizer: Optimizer, _ arena: CArena) -> UnsafeMutablePointer<Nncore__Optimizer> {
        let f = OptimizerFields(optimizer)
        let o: UnsafeMutablePointer<Nncore__Optimizer> = arena.message(nncore__optimizer__init)
        o.pointee.kind = cEnum(f.kind)
        o.pointee.momentum = f.momentum
        o.pointee.epsilon = f.epsilon
        o.pointee.decay = f.decay
        o.pointee.beta1 = f.beta1
        o.pointee.beta2 = f.beta2
        o.pointee.weight_decay = f.weightDecay
        return o
    }

    private static func encode(_ options: TrainingOptions, _ arena: CArena) -> UnsafeMutablePointer<Nncore__TrainingConfig> {
        let c: UnsafeMutablePointer<Nncore__TrainingConfig> = arena.message(nncore__training_config__init)
        c.pointee.optimizer = encode(options.optimizer, arena)
        c.pointee.learning_rate = options.learningRate
        let f = ScheduleFields(options.schedule)
        let schedule: UnsafeMutablePointer<Nncore__Schedule> = arena.message(nncore__schedule__init)
        schedule.pointee.kind = cEnum(f.kind)
        schedule.pointee.n_milestones = f.milestones.count
        schedule.pointee.milestones = arena.copy(f.milestones)
        schedule.pointee.factor = f.factor
        schedule.pointee.gamma = f.gamma
        schedule.pointee.period = f.period
        schedule.pointee.minimum_factor = f.minimumFactor
        schedule.pointee.warmup_epochs = f.warmupEpochs
        c.pointee.schedule = schedule
        c.pointee.l2 = options.l2
        c.pointee.l1 = options.l1
        c.pointee.epochs = UInt32(clamping: options.epochs)
        c.pointee.batch_size = UInt32(clamping: options.batchSize)
        c.pointee.validation_fraction = options.validationFraction
        c.pointee.early_stopping_patience = UInt32(clamping: options.earlyStoppingPatience ?? 0)
        c.pointee.early_stopping_min_delta = options.earlyStoppingMinDelta
        c.pointee.shuffle = options.shuffle ? 1 : 0
        c.pointee.standardize = options.standardize ? 1 : 0
        c.pointee.gradient_clip_norm = options.gradientClipNorm ?? 0
        return c
    }
}
